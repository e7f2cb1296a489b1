"""A general convolutional encoder whose output size is known by arithmetic before any tensor flows."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from gymforge.networks.activations import make_activation
from torch import nn

POOLINGS = ("max", "avg")


def conv_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Side length after a convolution or pooling: floor((n + 2 padding - kernel) / stride) + 1."""
    if kernel < 1 or stride < 1 or padding < 0:
        raise ValueError(
            f"Need kernel >= 1, stride >= 1 and padding >= 0, got {kernel}, {stride}, {padding}."
        )
    if n + 2 * padding < kernel:
        raise ValueError(f"A kernel of {kernel} does not fit an input of {n} with padding {padding}.")
    return (n + 2 * padding - kernel) // stride + 1


def _per_layer(value: int | Sequence[int], count: int, name: str) -> list[int]:
    values = [value] * count if isinstance(value, int) else list(value)
    if len(values) != count:
        raise ValueError(f"{name} has {len(values)} entries but there are {count} conv layers.")
    return values


class ConvEncoder(nn.Module):
    """Conv -> [batch norm] -> activation -> [pool] per layer, then flatten to `output_dim` features.

    Accepts uint8 or float images (..., C, H, W); with `scale=True` pixels are divided by 255. Extra leading
    dims (time, batch) are flattened through the convolutions and restored. `output_shape` (C, H, W) and
    `output_dim` come from `conv_output_size`, so a head can be sized without a dummy forward pass.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        channels: Sequence[int],
        kernel_sizes: int | Sequence[int] = 3,
        strides: int | Sequence[int] = 1,
        paddings: int | Sequence[int] = 0,
        batch_norm: bool = False,
        pooling: str | None = None,
        pool_size: int = 2,
        activation: str = "relu",
        scale: bool = False,
    ) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"input_shape must be (channels, height, width), got {tuple(input_shape)}.")
        if pooling is not None and pooling not in POOLINGS:
            raise ValueError(f"Unknown pooling {pooling!r}; choose one of {list(POOLINGS)} or None.")
        count = len(channels)
        self.input_shape = tuple(int(d) for d in input_shape)
        self.channels = list(channels)
        self.kernel_sizes = _per_layer(kernel_sizes, count, "kernel_sizes")
        self.strides = _per_layer(strides, count, "strides")
        self.paddings = _per_layer(paddings, count, "paddings")
        self.pooling, self.pool_size, self.scale = pooling, pool_size, scale

        layers: list[nn.Module] = []
        depth, height, width = self.input_shape
        for out_channels, kernel, stride, padding in zip(
            channels, self.kernel_sizes, self.strides, self.paddings
        ):
            height = conv_output_size(height, kernel, stride, padding)
            width = conv_output_size(width, kernel, stride, padding)
            layers.append(nn.Conv2d(depth, out_channels, kernel, stride, padding, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(make_activation(activation))
            if pooling is not None:
                height = conv_output_size(height, pool_size, pool_size)
                width = conv_output_size(width, pool_size, pool_size)
                layers.append(nn.MaxPool2d(pool_size) if pooling == "max" else nn.AvgPool2d(pool_size))
            depth = out_channels
        self.layers = nn.Sequential(*layers)
        self.output_shape = (depth, height, width)
        self.output_dim = depth * height * width

    def feature_maps(self, images: torch.Tensor) -> torch.Tensor:
        """(..., C, H, W) -> (N, C', H', W') with leading dims flattened into N."""
        images = images.reshape(-1, *self.input_shape).float()
        if self.scale:
            images = images / 255.0
        return self.layers(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(..., C, H, W) -> (..., output_dim)."""
        leading = images.shape[:-3]
        return self.feature_maps(images).reshape(*leading, self.output_dim)
