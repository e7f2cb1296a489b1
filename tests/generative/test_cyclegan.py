"""CycleGAN: the cycle loss falls on unpaired batches, translation grids from a folder, one-line refusals."""

import numpy as np
import pytest
import torch
from gymforge.generative.cyclegan import CycleGAN, CycleGANConfig, restyle
from PIL import Image

from gymforge.engine.errors import UserError


def test_restyles_are_the_known_translations():
    images = torch.zeros(1, 1, 5, 5)
    images[0, 0, 2, 2] = 1.0
    assert restyle(images, "thick").sum() == 9  # a dot becomes a 3x3 block
    assert torch.equal(restyle(images, "invert"), 1 - images)


def test_cycle_loss_falls_and_translation_beats_doing_nothing(tmp_path):
    torch.manual_seed(0)
    learner = CycleGAN(CycleGANConfig(batch_size=32, base_channels=8, residual_blocks=1, style_b="invert",
                                      learning_rate=1e-3))
    first = learner.train_step()
    for _ in range(60):
        metrics = learner.train_step()
    assert metrics["train/loss_cycle"] < 0.5 * first["train/loss_cycle"]
    figures = learner.evaluate()
    assert figures["translation_error"] < figures["identity_baseline_error"], figures
    assert learner.progress == 61 * 32

    for index in range(3):
        Image.fromarray(np.full((16, 16), 60 * index, np.uint8)).save(tmp_path / f"{index}.png")
    grid = learner.translate(tmp_path, n=4)
    assert grid.dtype == np.uint8 and grid.shape[2] == 3
    assert (learner.sample_grid(8, seed=1) == learner.sample_grid(8, seed=1)).all()
    with pytest.raises(UserError, match="--label and --interpolate do not apply"):
        learner.sample_grid(8, seed=1, label=2)
    state = learner.state_dict()
    copy = CycleGAN(CycleGANConfig(batch_size=32, base_channels=8, residual_blocks=1, style_b="invert", seed=3))
    copy.load_state_dict(state)
    assert (copy.sample_grid(8, seed=1) == learner.sample_grid(8, seed=1)).all()


def write_images(folder, pixels):
    folder.mkdir()
    for index, image in enumerate(pixels):
        Image.fromarray(image).save(folder / f"{index}.png")
    return folder


class Shift(torch.nn.Module):
    def __init__(self, amount):
        super().__init__()
        self.amount = amount

    def forward(self, images):
        return (images + self.amount).clamp(0.0, 1.0)


def test_identity_maps_lose_the_selection_to_a_translation_that_maps_a_look_to_the_other(tmp_path):
    """Set B is set A's kind of image made brighter by 150 grey levels (other random images). Identity maps have
    no cycle error at all, but their A -> B outputs look like A; shifting brightness by +-150 makes A look like
    B, so it must win the score that chooses best.pt."""
    rng = np.random.default_rng(0)
    dark = rng.integers(0, 100, (100, 8, 8), dtype=np.uint8)
    bright = rng.integers(0, 100, (100, 8, 8), dtype=np.uint8) + 150
    config = CycleGANConfig(data=str(write_images(tmp_path / "a", dark)),
                            data_b=str(write_images(tmp_path / "b", bright)), style_b="none", image_size=8,
                            base_channels=4, residual_blocks=0)
    learner = CycleGAN(config)
    scores = {}
    for name, (a_to_b, b_to_a) in {"identity": (torch.nn.Identity(), torch.nn.Identity()),
                                   "shift": (Shift(150 / 255), Shift(-150 / 255))}.items():
        learner.networks.update(a_to_b=a_to_b, b_to_a=b_to_a)
        scores[name] = learner.evaluate("validation")
    assert learner.score_mode == "min"
    assert scores["identity"][learner.score_key] > 10 * scores["shift"][learner.score_key], scores
    assert scores["identity"]["cycle_error"] == 0.0  # which chose best.pt before: the identity maps won it
    # the shift produces B's distribution itself, so it scores about the real-vs-real floor
    assert scores["shift"]["translation_fid"] < 3 * scores["shift"]["translation_fid_floor"], scores
    assert scores["identity"]["translation_kid"] > scores["shift"]["translation_kid"]
