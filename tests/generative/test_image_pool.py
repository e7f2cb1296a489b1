"""The image pool shows new fakes while it fills, then half old ones, and survives a checkpoint."""

import torch
from gymforge.generative.image_pool import ImagePool


def batch(start, count=4):
    return torch.arange(start, start + count, dtype=torch.float32).view(count, 1, 1, 1)  # image k holds k


def test_while_filling_the_pool_shows_each_new_batch_as_is():
    pool = ImagePool(size=8, seed=0)
    assert torch.equal(pool.query(batch(0)), batch(0))
    assert torch.equal(pool.query(batch(4)), batch(4))
    assert torch.equal(pool.images.flatten(), torch.arange(8.0))


def test_once_full_about_half_the_shown_images_are_older_ones_and_nothing_is_invented():
    pool = ImagePool(size=50, seed=0)
    pool.query(batch(0, 50))
    shown, new = [], []
    for step in range(100):
        images = batch(1000 + 10 * step, 10)
        shown.append(pool.query(images).flatten())
        new.append(images.flatten())
    shown, new = torch.cat(shown), torch.cat(new)
    old_fraction = float((shown != new).float().mean())
    assert 0.45 < old_fraction < 0.55
    assert set(shown.tolist()) <= set(range(50)) | set(new.tolist())  # only images the generator made
    assert len(pool.images) == 50


def test_size_zero_shows_only_the_latest_batch():
    pool = ImagePool(size=0, seed=0)
    assert torch.equal(pool.query(batch(0)), batch(0)) and pool.images is None


def test_state_round_trip_gives_the_same_future():
    pool = ImagePool(size=6, seed=1)
    pool.query(batch(0, 6))
    copy = ImagePool(size=6, seed=99)
    copy.load_state_dict(pool.state_dict())
    assert torch.equal(pool.query(batch(10)), copy.query(batch(10)))
