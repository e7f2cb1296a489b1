import math

import pytest
import torch
from gymforge.networks import interpolate, make_lr_scheduler, make_schedule, schedule_value
from torch import nn


@pytest.mark.parametrize(
    "name, kwargs, expected",
    [
        ("constant", {}, {0: 1.0, 50: 1.0, 99: 1.0}),
        ("linear", {}, {0: 1.0, 25: 0.75, 50: 0.5, 100: 0.0, 150: 0.0}),
        ("linear", {"final_fraction": 0.1}, {0: 1.0, 50: 0.55, 100: 0.1}),
        ("cosine", {}, {0: 1.0, 50: 0.5, 100: 0.0}),
        ("cosine", {"final_fraction": 0.2}, {25: 0.2 + 0.8 * (1 + math.cos(math.pi / 4)) / 2, 100: 0.2}),
        ("step", {"step_size": 30, "gamma": 0.5}, {0: 1.0, 29: 1.0, 30: 0.5, 65: 0.25}),
        ("warmup_linear", {"warmup_steps": 10}, {0: 0.1, 4: 0.5, 9: 1.0, 10: 1.0, 55: 0.5, 100: 0.0}),
        ("warmup_cosine", {"warmup_steps": 20}, {0: 0.05, 19: 1.0, 60: 0.5, 100: 0.0}),
    ],
)
def test_documented_values(name, kwargs, expected):
    schedule = make_schedule(name, total_steps=100, **kwargs)
    for step, value in expected.items():
        assert schedule(step) == pytest.approx(value), step


def test_schedule_value_scales_by_base():
    assert schedule_value("linear", 50, total_steps=100, base_value=3e-4) == pytest.approx(1.5e-4)


def test_lambda_lr_follows_the_schedule():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.2)
    scheduler = make_lr_scheduler(optimizer, "linear", total_steps=10)
    seen = []
    for _ in range(10):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([0.2 * (1 - k / 10) for k in range(10)])


@pytest.mark.parametrize(
    "name, kwargs",
    [("exponential", {}), ("step", {}), ("warmup_cosine", {}), ("linear", {"warmup_steps": 100})],
)
def test_bad_arguments_raise_value_error(name, kwargs):
    with pytest.raises(ValueError):
        make_schedule(name, total_steps=100, **kwargs)


def test_interpolate_hits_its_documented_values():
    assert interpolate(1.0, 0.05, 0.0) == 1.0
    assert interpolate(1.0, 0.05, 0.5) == pytest.approx(0.525)
    assert interpolate(1.0, 0.05, 2.0) == pytest.approx(0.05)  # the fraction is clipped
    assert interpolate(1.0, 0.01, 0.5, "exponential") == pytest.approx(0.1)
    assert interpolate(1.0, 0.01, 0.5, "constant") == 1.0
    with pytest.raises(ValueError, match="constant, linear or exponential"):
        interpolate(1.0, 0.0, 0.5, "cosine")  # type: ignore[arg-type]
