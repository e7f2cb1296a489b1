"""Fixtures shared by the networks tests."""

import pytest
from torch import nn


def _assert_every_parameter_has_gradient(module: nn.Module) -> None:
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, f"no gradient reached {name}"


@pytest.fixture
def assert_all_grads():
    """A check that a backward pass from the output reached every parameter of a module."""
    return _assert_every_parameter_has_gradient
