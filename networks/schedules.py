"""Schedules as plain functions of the step or of the fraction done: learning-rate multipliers for torch's
LambdaLR, and start-to-end values (epsilon, tabular learning rates, PPO's clip range) for the agents."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch

SCHEDULES = ("constant", "linear", "cosine", "step", "warmup_linear", "warmup_cosine")
ScheduleKind = Literal["constant", "linear", "exponential"]


def make_schedule(
    name: str,
    total_steps: int,
    warmup_steps: int = 0,
    final_fraction: float = 0.0,
    step_size: int | None = None,
    gamma: float = 0.1,
) -> Callable[[int], float]:
    """A multiplier of the base learning rate as a function of the step (0-based).

    During `warmup_steps` the multiplier rises linearly: (step + 1) / warmup_steps. After it, with progress
    p = (step - warmup) / (total - warmup) clipped to [0, 1]:
      constant 1;  linear 1 - p (1 - final_fraction);  cosine final + (1 - final)(1 + cos(pi p)) / 2;
      step gamma ** ((step - warmup) // step_size).
    "warmup_linear" and "warmup_cosine" are linear and cosine that insist on warmup_steps > 0.
    """
    if name not in SCHEDULES:
        raise ValueError(f"Unknown schedule {name!r}; choose one of {list(SCHEDULES)}.")
    if total_steps <= 0 or not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"Need total_steps > 0 and 0 <= warmup_steps < total_steps, got {total_steps}, {warmup_steps}."
        )
    if name.startswith("warmup_"):
        if warmup_steps == 0:
            raise ValueError(f"Schedule {name!r} needs warmup_steps > 0.")
        name = name.removeprefix("warmup_")
    if name == "step" and (step_size is None or step_size <= 0):
        raise ValueError("The 'step' schedule needs a positive step_size.")
    decay_steps = total_steps - warmup_steps

    def multiplier(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / decay_steps)
        if name == "linear":
            return 1.0 - progress * (1.0 - final_fraction)
        if name == "cosine":
            return final_fraction + (1.0 - final_fraction) * 0.5 * (1.0 + math.cos(math.pi * progress))
        if name == "step":
            return gamma ** ((step - warmup_steps) // step_size)
        return 1.0

    return multiplier


def schedule_value(name: str, step: int, total_steps: int, base_value: float = 1.0, **kwargs: float) -> float:
    """The value at `step`: base_value times the multiplier (a learning rate, an entropy coefficient)."""
    return base_value * make_schedule(name, total_steps, **kwargs)(step)


def make_lr_scheduler(
    optimizer: torch.optim.Optimizer, name: str, total_steps: int, **kwargs: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR that follows `make_schedule(name, total_steps, **kwargs)`; call .step() once per update."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, make_schedule(name, total_steps, **kwargs))


def interpolate(start: float, end: float, fraction: float, kind: ScheduleKind = "linear") -> float:
    """The value at `fraction` (0..1, clipped) of the way from start to end.

    linear:      start + f (end - start)
    exponential: start (end / start) ** f    (a constant decay factor per step; start and end > 0)
    """
    fraction = min(max(fraction, 0.0), 1.0)
    if kind == "constant":
        return start
    if kind == "linear":
        return start + fraction * (end - start)
    if kind == "exponential":
        return start * (end / start) ** fraction
    raise ValueError(f"unknown schedule {kind!r}; use constant, linear or exponential")
