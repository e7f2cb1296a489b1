"""The losses the learners use: squared error and Huber for values, cross-entropy for classes."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mse(prediction: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean squared error (x - y)^2."""
    return F.mse_loss(prediction, target, reduction=reduction)


def huber(
    prediction: torch.Tensor, target: torch.Tensor, delta: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    """0.5 e^2 for |e| <= delta, delta (|e| - delta/2) beyond: DQN's loss, linear for outliers."""
    return F.huber_loss(prediction, target, delta=delta, reduction=reduction)


def cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0, reduction: str = "mean"
) -> torch.Tensor:
    """Softmax cross-entropy of logits (N, K) against class indices (N,), with optional label smoothing."""
    return F.cross_entropy(logits, labels, label_smoothing=label_smoothing, reduction=reduction)
