"""Transposed-conv decoders that turn a latent vector into an image: generators, AE and VAE decoders."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from gymforge.networks.activations import make_activation
from gymforge.networks.conv_encoder import ConvEncoder, _per_layer, conv_output_size
from torch import nn


def conv_transpose_output_size(
    n: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> int:
    """Side length after a transposed convolution: (n - 1) stride - 2 padding + kernel + output_padding."""
    if not 0 <= output_padding < max(stride, 1):
        raise ValueError(f"output_padding must be in [0, stride), got {output_padding} with stride {stride}.")
    size = (n - 1) * stride - 2 * padding + kernel + output_padding
    if size < 1:
        raise ValueError(
            f"A transposed conv (kernel {kernel}, stride {stride}, padding {padding}) shrinks {n} to {size}."
        )
    return size


class ConvDecoder(nn.Module):
    """Linear from the latent to `start_shape`, then ConvTranspose -> [batch norm] -> activation per layer.

    The last layer gets no norm and `output_activation` instead ("tanh" for [-1, 1] images, "sigmoid" for
    [0, 1], None for logits). `output_shape` comes from `conv_transpose_output_size`. See `dcgan` and
    `mirror` for the two usual ways to choose the layers.
    """

    def __init__(
        self,
        latent_dim: int,
        start_shape: Sequence[int],
        channels: Sequence[int],
        kernel_sizes: int | Sequence[int] = 4,
        strides: int | Sequence[int] = 2,
        paddings: int | Sequence[int] = 1,
        output_paddings: int | Sequence[int | tuple[int, int]] = 0,
        batch_norm: bool = True,
        activation: str = "relu",
        output_activation: str | None = None,
    ) -> None:
        super().__init__()
        count = len(channels)
        kernel_sizes = _per_layer(kernel_sizes, count, "kernel_sizes")
        strides = _per_layer(strides, count, "strides")
        paddings = _per_layer(paddings, count, "paddings")
        output_paddings = (
            [output_paddings] * count if isinstance(output_paddings, int) else list(output_paddings)
        )
        if len(output_paddings) != count:
            raise ValueError(
                f"output_paddings has {len(output_paddings)} entries but there are {count} layers."
            )
        self.latent_dim = latent_dim
        self.start_shape = tuple(int(d) for d in start_shape)
        depth, height, width = self.start_shape

        self.project = nn.Linear(latent_dim, depth * height * width)
        start: list[nn.Module] = [nn.BatchNorm2d(depth)] if batch_norm else []
        layers: list[nn.Module] = [*start, make_activation(activation)]
        for index, (out_channels, kernel, stride, padding, extra) in enumerate(
            zip(channels, kernel_sizes, strides, paddings, output_paddings)
        ):
            extra_h, extra_w = (extra, extra) if isinstance(extra, int) else extra
            height = conv_transpose_output_size(height, kernel, stride, padding, extra_h)
            width = conv_transpose_output_size(width, kernel, stride, padding, extra_w)
            last = index == count - 1
            layers.append(
                nn.ConvTranspose2d(
                    depth,
                    out_channels,
                    kernel,
                    stride,
                    padding,
                    (extra_h, extra_w),
                    bias=last or not batch_norm,
                )
            )
            if not last:
                if batch_norm:
                    layers.append(nn.BatchNorm2d(out_channels))
                layers.append(make_activation(activation))
            depth = out_channels
        layers.append(make_activation(output_activation))
        self.layers = nn.Sequential(*layers)
        self.output_shape = (depth, height, width)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) -> (B, C, H, W)."""
        features = self.project(latent).reshape(-1, *self.start_shape)  # (B, C0, H0, W0)
        return self.layers(features)

    @classmethod
    def dcgan(
        cls,
        latent_dim: int,
        output_shape: Sequence[int],
        base_channels: int = 64,
        output_activation: str | None = "tanh",
    ) -> ConvDecoder:
        """The DCGAN generator: a small start map (4x4 for 32/64, 7x7 for 28) doubled by 4x4 stride-2 layers
        while the channels halve down to `base_channels`, then the image channels. The latent projection is
        the same linear map as DCGAN's first 1x1 -> kxk transposed conv."""
        out_channels, height, width = output_shape
        doublings = 0
        while height % 2 == 0 and width % 2 == 0 and min(height, width) > 7:
            height, width, doublings = height // 2, width // 2, doublings + 1
        if doublings == 0:
            raise ValueError(
                f"DCGAN needs an even image side above 7 (e.g. 28, 32, 64); got {tuple(output_shape)}."
            )
        widths = [base_channels * 2 ** (doublings - 1 - k) for k in range(doublings)]  # e.g. 512 256 128 64
        return cls(
            latent_dim,
            (widths[0], height, width),
            channels=[*widths[1:], out_channels],
            kernel_sizes=4,
            strides=2,
            paddings=1,
            output_activation=output_activation,
        )

    @classmethod
    def mirror(
        cls,
        encoder: ConvEncoder,
        latent_dim: int,
        batch_norm: bool = False,
        output_activation: str | None = None,
    ) -> ConvDecoder:
        """The decoder that undoes `encoder` layer by layer, reproducing its input shape exactly (output
        padding recovers the rows that strided convs floored away). Encoders with pooling have no mirror."""
        if encoder.pooling is not None:
            raise ValueError("mirror needs an encoder without pooling; downsample with strides instead.")
        sizes = [encoder.input_shape[1:]]
        for kernel, stride, padding in zip(encoder.kernel_sizes, encoder.strides, encoder.paddings):
            sizes.append(tuple(conv_output_size(n, kernel, stride, padding) for n in sizes[-1]))
        output_paddings = []
        for layer in reversed(range(len(encoder.channels))):
            kernel, stride, padding = (
                encoder.kernel_sizes[layer],
                encoder.strides[layer],
                encoder.paddings[layer],
            )
            bigger, smaller = sizes[layer], sizes[layer + 1]
            output_paddings.append(
                tuple(
                    big - ((small - 1) * stride - 2 * padding + kernel) for big, small in zip(bigger, smaller)
                )
            )
        channels = [*reversed(encoder.channels[:-1]), encoder.input_shape[0]]
        return cls(
            latent_dim,
            encoder.output_shape,
            channels,
            kernel_sizes=encoder.kernel_sizes[::-1],
            strides=encoder.strides[::-1],
            paddings=encoder.paddings[::-1],
            output_paddings=output_paddings,
            batch_norm=batch_norm,
            output_activation=output_activation,
        )
