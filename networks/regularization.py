"""Gradient clipping: the small guard against exploding updates."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


def clip_gradients(
    parameters: nn.Module | Iterable[torch.Tensor],
    max_norm: float | None = None,
    max_value: float | None = None,
) -> torch.Tensor:
    """Clip gradients in place, by element (`max_value`) then by global L2 norm (`max_norm`).

    Returns the global gradient norm before norm clipping (after value clipping), worth logging.
    """
    params = [
        p
        for p in (parameters.parameters() if isinstance(parameters, nn.Module) else parameters)
        if p.grad is not None
    ]
    if max_value is not None:
        torch.nn.utils.clip_grad_value_(params, max_value)
    if max_norm is not None:
        return torch.nn.utils.clip_grad_norm_(params, max_norm)
    if not params:
        return torch.tensor(0.0)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))

