"""The generator `gymforge export` writes: latent (and class label) -> image, as a plain torch module."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from gymforge.engine.export import Exportable


class Generator(nn.Module):
    """latent (B, D) [, labels (B,) int64] -> images (B, C, H, W) in [0, 1], through the learner's own decode()."""

    def __init__(self, learner: Any) -> None:
        super().__init__()
        self.networks = nn.ModuleDict(learner.networks)  # registered, so eval() and the export see the weights
        self.decode = learner.decode

    def forward(self, latent: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(latent, labels)


def generator_exportable(learner: Any) -> Exportable:
    """The hook behind GenerativeLearner.export_module(), which checks first that the learner has a generator."""
    learner.device = torch.device("cpu")
    for network in learner.networks.values():
        network.cpu()
    conditional, classes, dim = learner.conditional, learner.num_classes, learner.latent_dim

    def sample(n: int, seed: int) -> dict[str, np.ndarray]:
        generator = np.random.default_rng(seed)
        inputs = {"latent": generator.standard_normal((n, dim)).astype(np.float32)}
        if conditional:
            inputs["labels"] = generator.integers(classes, size=n).astype(np.int64)
        return inputs

    inputs = ["latent", "labels"] if conditional else ["latent"]
    code = "latent code" if learner.has_prior else "code (no prior: an autoencoder's codes)"
    labels = f" and class labels (B,) in 0..{classes - 1}" if conditional else ""
    return Exportable(Generator(learner), inputs, ["image"], sample,
                      description=f"{learner.name} generator: {code} (B, {dim}){labels} -> image "
                      f"(B, {', '.join(map(str, learner.image_shape))}) in [0, 1]")
