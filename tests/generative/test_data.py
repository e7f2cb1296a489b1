"""Dataset readers on the bundled digits and on small files written here in the real formats."""

import gzip
import struct

import numpy as np
import pytest
import torch
from gymforge.envs import save_frames
from gymforge.generative.data import Batches, augment, load_data, read_idx
from PIL import Image

from gymforge.engine.errors import ConfigError


def test_digits_are_bundled_labelled_and_split_the_same_way_every_time():
    data = load_data("digits", 16)
    assert data.train.shape == (1455, 1, 16, 16) and data.test.shape == (180, 1, 16, 16)
    assert data.validation.shape == (162, 1, 16, 16) and len(data.validation_labels) == 162
    assert data.num_classes == 10 and set(data.train_labels.tolist()) == set(range(10))
    assert 0.0 <= float(data.train.min()) and float(data.train.max()) <= 1.0
    again = load_data("digits", 8)
    assert torch.equal(data.test_labels, again.test_labels)
    # at its native 8x8 size the 17 grey levels come back (to the uint8 rounding of 255/16)
    levels = again.train * 16
    assert torch.allclose(torch.round(levels), levels, atol=0.04) and len(torch.unique(torch.round(levels))) == 17


def write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST/raw"), ("fashion-mnist", "FashionMNIST/raw")])
def test_idx_files_in_torchvision_layout_are_read(tmp_path, name, folder):
    raw = tmp_path / folder
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    train, test = rng.integers(0, 256, (30, 28, 28)), rng.integers(0, 256, (12, 28, 28))
    write_idx(raw / "train-images-idx3-ubyte.gz", train)
    write_idx(raw / "train-labels-idx1-ubyte.gz", np.arange(30) % 10)
    write_idx(raw / "t10k-images-idx3-ubyte.gz", test)
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.arange(12) % 10)
    data = load_data(name, 28, root=tmp_path)
    assert data.test.shape == (12, 1, 28, 28)  # the official test split; validation comes out of train
    assert data.train.shape == (27, 1, 28, 28) and data.validation.shape == (3, 1, 28, 28)
    assert any(torch.allclose(image[0] * 255, torch.from_numpy(train[3]).float(), atol=1e-3) for image in data.train)
    assert data.test_labels.tolist() == (np.arange(12) % 10).tolist()


def test_truncated_idx_file_is_refused(tmp_path):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(struct.pack(">BBBBIII", 0, 0, 8, 3, 10, 28, 28) + b"\0" * 100)
    with pytest.raises(ConfigError, match="truncated"):
        read_idx(path)


def test_missing_mnist_files_say_where_to_put_them(tmp_path):
    with pytest.raises(ConfigError, match="train-images-idx3-ubyte.*--download"):
        load_data("mnist", 28, root=tmp_path)


def test_cifar10_binary_batches_are_read_channel_planes_and_all(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(1)
    images = {}
    for name, count in [("data_batch_1.bin", 4), ("data_batch_2.bin", 3), ("test_batch.bin", 2)]:
        labels = rng.integers(0, 10, count)
        pixels = rng.integers(0, 256, (count, 3, 32, 32))
        records = np.concatenate([labels[:, None], pixels.reshape(count, -1)], axis=1).astype(np.uint8)
        records.tofile(folder / name)
        images[name] = (pixels, labels)
    data = load_data("cifar10", 32, root=tmp_path)
    assert len(data.train) + len(data.validation) == 7 and data.test.shape == (2, 3, 32, 32)
    pixels, labels = images["data_batch_2.bin"]
    everything = torch.cat([data.train, data.validation])
    everything_labels = torch.cat([data.train_labels, data.validation_labels])
    match = [k for k, image in enumerate(everything)
             if torch.allclose(image * 255, torch.from_numpy(pixels[0]).float(), atol=1e-3)]  # R, G, B planes
    assert len(match) == 1 and everything_labels[match[0]] == labels[0]


def test_image_folder_with_class_subfolders(tmp_path):
    for label in ("cats", "dogs"):
        (tmp_path / label).mkdir()
        for index in range(5):
            Image.fromarray(np.full((20, 20), 40 * index, np.uint8)).save(tmp_path / label / f"{index}.png")
    data = load_data(str(tmp_path), 16, holdout_fraction=0.2)
    assert data.image_shape == (1, 16, 16) and data.num_classes == 2  # grey images stay one channel
    assert len(data.train) + len(data.validation) + len(data.test) == 10 and data.labelled


def test_empty_and_unreadable_folders_give_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="holds no images"):
        load_data(str(tmp_path), 16)
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(ConfigError, match="cannot read image .*broken.png"):
        load_data(str(tmp_path), 16)
    with pytest.raises(ConfigError, match="not a folder of images"):
        load_data(str(tmp_path / "nowhere"), 16)


def test_frames_npz_from_envs(tmp_path):
    frames = np.random.default_rng(2).integers(0, 256, (40, 10, 10, 3), dtype=np.uint8)
    path = save_frames(tmp_path / "frames.npz", frames, env="gymforge/Catch-v0")
    data = load_data(str(path), 8)
    assert data.image_shape == (3, 8, 8) and len(data.train) + len(data.validation) + len(data.test) == 40
    assert not data.labelled


def test_augmentation_shifts_flips_and_noise_keep_shape_and_range():
    images = torch.zeros(6, 1, 8, 8)
    images[:, :, 3:5, 3:5] = 1.0
    generator = torch.Generator().manual_seed(0)
    shifted = augment(images, flip=True, crop_padding=2, noise_std=0.0, generator=generator)
    assert shifted.shape == images.shape
    assert torch.allclose(shifted.sum((1, 2, 3)), images.sum((1, 2, 3)))  # a 2-pixel shift keeps the blob inside
    noisy = augment(images, flip=False, crop_padding=0, noise_std=0.3, generator=generator)
    assert 0.0 <= float(noisy.min()) and float(noisy.max()) <= 1.0 and not torch.equal(noisy, images)


def test_batches_cover_every_image_once_per_epoch_and_resume():
    batches = Batches(10, 5, seed=0)
    epoch = torch.cat([batches.next_indices(), batches.next_indices()])
    assert sorted(epoch.tolist()) == list(range(10))
    state = batches.state_dict()
    following = batches.next_indices()
    batches.load_state_dict(state)
    assert torch.equal(batches.next_indices(), following)


def test_download_without_torchvision_says_what_to_install(tmp_path):
    import importlib.util

    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed; downloading would need the network")
    with pytest.raises(ConfigError, match="--download needs torchvision"):
        load_data("fashion-mnist", 28, root=tmp_path, allow_download=True)
