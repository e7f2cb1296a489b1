"""Regression and classification losses, by name, with the smoothing options RL and GANs reach for."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Loss = Callable[..., torch.Tensor]


def mse(prediction: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean squared error (x - y)^2."""
    return F.mse_loss(prediction, target, reduction=reduction)


def mae(prediction: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean absolute error |x - y|."""
    return F.l1_loss(prediction, target, reduction=reduction)


def huber(
    prediction: torch.Tensor, target: torch.Tensor, delta: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    """0.5 e^2 for |e| <= delta, delta (|e| - delta/2) beyond: DQN's loss, linear for outliers."""
    return F.huber_loss(prediction, target, delta=delta, reduction=reduction)


def pseudo_huber(
    prediction: torch.Tensor, target: torch.Tensor, delta: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    """delta^2 (sqrt(1 + (e/delta)^2) - 1): a smooth Huber with every derivative continuous."""
    error = prediction - target
    # Same value as delta^2 (sqrt(1 + u) - 1) with u = (e/delta)^2, without the cancellation near e = 0.
    loss = error.square() / (torch.sqrt(1.0 + (error / delta).square()) + 1.0)
    return _reduce(loss, reduction)


def smooth_labels(labels: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """One-hot targets with `smoothing` spread evenly: true class 1 - s + s/K, every other class s/K."""
    one_hot = F.one_hot(labels, num_classes).float()  # (..., K)
    return one_hot * (1.0 - smoothing) + smoothing / num_classes


def cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0, reduction: str = "mean"
) -> torch.Tensor:
    """Softmax cross-entropy of logits (N, K) against class indices (N,), with optional label smoothing."""
    return F.cross_entropy(logits, labels, label_smoothing=label_smoothing, reduction=reduction)


def bce_with_logits(
    logits: torch.Tensor, target: torch.Tensor, label_smoothing: float = 0.0, reduction: str = "mean"
) -> torch.Tensor:
    """Binary cross-entropy on raw logits; smoothing moves targets to t (1 - s) + s / 2 (one-sided GAN tricks
    pass already-smoothed targets instead)."""
    target = target * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return F.binary_cross_entropy_with_logits(logits, target, reduction=reduction)


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"Unknown reduction {reduction!r}; choose one of ['mean', 'sum', 'none'].")


LOSSES: dict[str, Loss] = {
    "mse": mse,
    "mae": mae,
    "huber": huber,
    "pseudo_huber": pseudo_huber,
    "cross_entropy": cross_entropy,
    "bce_with_logits": bce_with_logits,
}


def make_loss(name: str) -> Loss:
    """The loss function called `name` (see LOSSES); keyword options such as delta go to the call."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"Unknown loss {name!r}; choose one of {sorted(LOSSES)}.") from None
