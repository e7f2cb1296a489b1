"""Optimizers chosen by name, with weight decay kept off biases and normalization weights."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")

NORM_LAYERS = (
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.InstanceNorm1d,
    nn.InstanceNorm2d,
    nn.InstanceNorm3d,
)


def parameter_groups(module: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two groups: matrices and conv kernels get `weight_decay`; biases and norm weights get none.

    Decaying a bias or a norm gain only pulls the model towards a worse fixed point, so they are exempt.
    """
    no_decay_ids = set()
    for layer in module.modules():
        if isinstance(layer, NORM_LAYERS):
            no_decay_ids.update(id(p) for p in layer.parameters(recurse=False))
    decay, no_decay = [], []
    for parameter in module.parameters():
        if not parameter.requires_grad:
            continue
        if parameter.ndim < 2 or id(parameter) in no_decay_ids:
            no_decay.append(parameter)
        else:
            decay.append(parameter)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [group for group in groups if group["params"]]


def _groups_by_shape(tensors: list[torch.Tensor], weight_decay: float) -> list[dict[str, Any]]:
    """Bare tensors have no layer to look at, so 1-D ones (biases, gains) are the ones exempt from decay."""
    groups = [
        {"params": [t for t in tensors if t.ndim >= 2], "weight_decay": weight_decay},
        {"params": [t for t in tensors if t.ndim < 2], "weight_decay": 0.0},
    ]
    return [group for group in groups if group["params"]]


def make_optimizer(
    name: str,
    module_or_params: nn.Module | Iterable[torch.Tensor] | Iterable[dict[str, Any]],
    lr: float,
    weight_decay: float = 0.0,
    **kwargs: Any,
) -> torch.optim.Optimizer:
    """A torch.optim optimizer by name; given a module, weight decay skips biases and norm weights.

    "momentum" and "nesterov" are SGD with momentum 0.9 (override with `momentum=`). Given bare tensors,
    the same rule applies by shape (1-D tensors are not decayed); dict groups are used as they are.
    `weight_decay` is decoupled (AdamW) for "adamw" and an L2 term in the gradient for the others.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of {list(OPTIMIZERS)}.")
    if isinstance(module_or_params, nn.Module):
        params: Any = parameter_groups(module_or_params, weight_decay)
    else:
        params = list(module_or_params)
        if params and not isinstance(params[0], dict):
            params = _groups_by_shape(params, weight_decay)
    if name in ("sgd", "momentum", "nesterov"):
        if name != "sgd":
            kwargs.setdefault("momentum", 0.9)
        return torch.optim.SGD(
            params, lr=lr, weight_decay=weight_decay, nesterov=name == "nesterov", **kwargs
        )
    optimizer_class = {
        "adagrad": torch.optim.Adagrad,
        "rmsprop": torch.optim.RMSprop,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
    }[name]
    return optimizer_class(params, lr=lr, weight_decay=weight_decay, **kwargs)
