"""Activation functions chosen by name, so configs can say `activation="tanh"` instead of importing torch."""

from __future__ import annotations

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def make_activation(name: str | None) -> nn.Module:
    """A fresh activation module for `name`; None or "identity" gives nn.Identity (for output layers)."""
    if name is None or name == "identity":
        return nn.Identity()
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)} or 'identity'."
        ) from None
