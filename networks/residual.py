"""Residual blocks: deep conv stacks (IMPALA-style encoders, generators) train since x passes straight on."""

from __future__ import annotations

import torch
from gymforge.networks.activations import make_activation
from torch import nn


class ResidualBlock(nn.Module):
    """Pre-activation residual block: x + conv(act(norm(conv(act(norm(x)))))) (He et al. 2016, v2).

    With `out_channels != in_channels` or `stride > 1` the skip path is a 1x1 conv so the sum lines up;
    the spatial size follows conv_output_size(n, 3, stride, 1).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None = None,
        stride: int = 1,
        activation: str = "relu",
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        out_channels = out_channels or in_channels

        def norm(channels: int) -> nn.Module:
            return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()

        self.body = nn.Sequential(
            norm(in_channels),
            make_activation(activation),
            nn.Conv2d(in_channels, out_channels, 3, stride, 1),
            norm(out_channels),
            make_activation(activation),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1),
        )
        needs_projection = stride != 1 or out_channels != in_channels
        self.skip = nn.Conv2d(in_channels, out_channels, 1, stride) if needs_projection else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) -> (B, C_out, H', W')."""
        return self.skip(x) + self.body(x)
