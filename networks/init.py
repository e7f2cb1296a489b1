"""Weight initializers chosen by name, and helpers that apply one to every Linear/Conv layer of a model."""

from __future__ import annotations

import math

import torch
from torch import nn

INITIALIZERS = (
    "zeros",
    "normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
)

# Layers whose weight and bias `init_module` resets.
WEIGHTED_LAYERS = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)


@torch.no_grad()
def initialize_(
    tensor: torch.Tensor, scheme: str, gain: float = 1.0, std: float = 0.02, bound: float = 0.05
) -> torch.Tensor:
    """Fill `tensor` in place by `scheme`; `gain` multiplies the standard deviation of every scheme.

    Variances before the gain: xavier/glorot 2/(fan_in+fan_out), he/kaiming 2/fan_in, lecun 1/fan_in;
    "normal" is N(0, std^2) (0.02 as DCGAN uses), "uniform" is U(-bound, bound), "orthogonal" gives
    W W^T = gain^2 I for wide matrices (W^T W for tall ones), treating trailing dims as one.
    """
    family = scheme.replace("glorot", "xavier").replace("kaiming", "he")
    if family == "zeros":
        return nn.init.zeros_(tensor)
    if family == "normal":
        return nn.init.normal_(tensor, 0.0, std * gain)
    if family == "uniform":
        return nn.init.uniform_(tensor, -bound * gain, bound * gain)
    if family == "xavier_normal":
        return nn.init.xavier_normal_(tensor, gain=gain)
    if family == "xavier_uniform":
        return nn.init.xavier_uniform_(tensor, gain=gain)
    if family in ("he_normal", "lecun_normal"):
        nonlinearity = "relu" if family == "he_normal" else "linear"  # relu gain sqrt(2), linear gain 1
        return nn.init.kaiming_normal_(tensor, mode="fan_in", nonlinearity=nonlinearity).mul_(gain)
    if family in ("he_uniform", "lecun_uniform"):
        nonlinearity = "relu" if family == "he_uniform" else "linear"
        return nn.init.kaiming_uniform_(tensor, mode="fan_in", nonlinearity=nonlinearity).mul_(gain)
    if family == "orthogonal":
        return nn.init.orthogonal_(tensor, gain=gain)
    raise ValueError(f"Unknown initializer {scheme!r}; choose one of {list(INITIALIZERS)}.")


def init_module(
    module: nn.Module, scheme: str, gain: float = 1.0, bias: float = 0.0, **scheme_kwargs: float
) -> nn.Module:
    """Initialize every Linear/Conv/ConvTranspose weight of `module` by `scheme` and set biases to `bias`."""
    if scheme not in INITIALIZERS:
        raise ValueError(f"Unknown initializer {scheme!r}; choose one of {list(INITIALIZERS)}.")
    for layer in module.modules():
        if isinstance(layer, WEIGHTED_LAYERS):
            initialize_(layer.weight, scheme, gain=gain, **scheme_kwargs)
            if layer.bias is not None:
                nn.init.constant_(layer.bias, bias)
    return module


def layer_init(layer: nn.Module, gain: float = math.sqrt(2), bias: float = 0.0) -> nn.Module:
    """Orthogonal weights with `gain`, constant bias: PPO's habit (sqrt(2) body, 0.01 policy, 1 value)."""
    return init_module(layer, "orthogonal", gain=gain, bias=bias)
