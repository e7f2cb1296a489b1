"""Observation standardization with frozen statistics, as a module: the one object that acting, evaluation and
ONNX export apply, so none of them can drift from training's formula (envs/normalize.py builds it from the
training env's running statistics)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class Standardize(nn.Module):
    """x -> clip((x - mean) / sqrt(var + epsilon), -clip, clip) in float32: Gymnasium's NormalizeObservation
    followed by Stable-Baselines3's clip at +-10, the formula training's vector wrapper applies."""

    def __init__(self, mean: np.ndarray, var: np.ndarray, epsilon: float = 1e-8, clip: float = 10.0) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean), dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(np.sqrt(np.asarray(var, dtype=np.float64) + epsilon),
                                                    dtype=torch.float32))
        self.clip = float(clip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x.float() - self.mean) / self.std).clamp(-self.clip, self.clip)
