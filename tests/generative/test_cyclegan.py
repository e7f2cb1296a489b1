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
