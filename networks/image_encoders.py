"""Ready-made image encoders: DQN's Nature CNN for 84x84 frame stacks and a small CNN for tiny screens."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from gymforge.networks.conv_encoder import ConvEncoder
from torch import nn


class NatureCNN(nn.Module):
    """The DQN (Mnih et al. 2015) encoder: 32x8s4, 64x4s2, 64x3s1 convs, then Linear to `features_dim`, ReLU.

    Takes (..., C, 84, 84) frame stacks, uint8 or float; `scale=True` divides by 255.
    """

    def __init__(
        self, input_shape: Sequence[int] = (4, 84, 84), features_dim: int = 512, scale: bool = True
    ) -> None:
        super().__init__()
        self.convs = ConvEncoder(
            input_shape, channels=(32, 64, 64), kernel_sizes=(8, 4, 3), strides=(4, 2, 1), scale=scale
        )
        self.linear = nn.Sequential(nn.Linear(self.convs.output_dim, features_dim), nn.ReLU())
        self.output_dim = features_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(..., C, H, W) -> (..., features_dim)."""
        return self.linear(self.convs(images))


class SmallCNN(nn.Module):
    """For tiny images (about 10x10 to 32x32, e.g. a Catch screen): 3x3 same-padding convs, the second
    and later ones with stride 2, then Linear to `features_dim`, ReLU. Nature's 8x8 stride-4 first layer
    would erase such inputs."""

    def __init__(
        self,
        input_shape: Sequence[int],
        features_dim: int = 256,
        channels: Sequence[int] = (16, 32),
        scale: bool = False,
    ) -> None:
        super().__init__()
        strides = [1] + [2] * (len(channels) - 1)
        self.convs = ConvEncoder(
            input_shape, channels=channels, kernel_sizes=3, strides=strides, paddings=1, scale=scale
        )
        self.linear = nn.Sequential(nn.Linear(self.convs.output_dim, features_dim), nn.ReLU())
        self.output_dim = features_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(..., C, H, W) -> (..., features_dim)."""
        return self.linear(self.convs(images))
