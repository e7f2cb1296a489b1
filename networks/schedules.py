"""Start-to-end values as functions of the fraction done (epsilon, tabular learning rates, PPO's learning rate
and clip range)."""

from __future__ import annotations

from typing import Literal

ScheduleKind = Literal["constant", "linear", "exponential"]


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
