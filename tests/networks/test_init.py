import math

import pytest
import torch
from gymforge.networks import INITIALIZERS, init_module, initialize_, layer_init
from torch import nn

FAN_OUT, FAN_IN = 600, 800


def _variance(scheme, gain=1.0):
    torch.manual_seed(0)
    return initialize_(torch.empty(FAN_OUT, FAN_IN), scheme, gain=gain).var().item()


@pytest.mark.parametrize(
    "scheme, expected",
    [
        ("xavier_normal", 2 / (FAN_IN + FAN_OUT)),
        ("xavier_uniform", 2 / (FAN_IN + FAN_OUT)),
        ("glorot_normal", 2 / (FAN_IN + FAN_OUT)),
        ("glorot_uniform", 2 / (FAN_IN + FAN_OUT)),
        ("he_normal", 2 / FAN_IN),
        ("he_uniform", 2 / FAN_IN),
        ("kaiming_normal", 2 / FAN_IN),
        ("kaiming_uniform", 2 / FAN_IN),
        ("lecun_normal", 1 / FAN_IN),
        ("lecun_uniform", 1 / FAN_IN),
        ("normal", 0.02**2),
        ("uniform", 0.05**2 / 3),
    ],
)
def test_variance_matches_formula(scheme, expected):
    # 480k samples: the sample variance is within ~0.3% of the truth; 3% is a wide margin.
    assert _variance(scheme) == pytest.approx(expected, rel=0.03)
    assert _variance(scheme, gain=2.0) == pytest.approx(4 * expected, rel=0.03)


def test_conv_fan_in_counts_the_kernel():
    torch.manual_seed(0)
    weight = initialize_(torch.empty(64, 32, 5, 5), "he_normal")
    assert weight.var().item() == pytest.approx(2 / (32 * 25), rel=0.05)


@pytest.mark.parametrize("shape", [(32, 64), (64, 32), (16, 8, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2), 0.01])
def test_orthogonal_gives_gain_squared_identity(shape, gain):
    weight = initialize_(torch.empty(shape), "orthogonal", gain=gain).reshape(shape[0], -1)
    product = weight @ weight.T if weight.shape[0] <= weight.shape[1] else weight.T @ weight
    assert torch.allclose(product, gain**2 * torch.eye(product.shape[0]), atol=1e-5 * max(1, gain**2))


def test_zeros():
    assert initialize_(torch.ones(3, 4), "zeros").abs().sum() == 0


def test_init_module_touches_every_linear_and_conv():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8, 4), nn.ConvTranspose2d(4, 2, 3)
    )
    init_module(model, "orthogonal", gain=2.0, bias=0.5)
    for layer in (model[0], model[3], model[4]):
        assert torch.all(layer.bias == 0.5)
    weight = model[3].weight
    assert torch.allclose(weight @ weight.T, 4 * torch.eye(4), atol=1e-5)
    assert torch.all(model[1].weight == 1.0)  # norms keep their own init


def test_layer_init_is_orthogonal_with_constant_bias():
    layer = layer_init(nn.Linear(10, 4), gain=0.01, bias=1.0)
    assert torch.all(layer.bias == 1.0)
    assert torch.allclose(layer.weight @ layer.weight.T, 1e-4 * torch.eye(4), atol=1e-9)


def test_every_scheme_runs_through_init_module():
    for scheme in INITIALIZERS:
        init_module(nn.Linear(5, 5), scheme)


def test_unknown_scheme_lists_the_choices():
    with pytest.raises(ValueError, match="orthogonal"):
        init_module(nn.Linear(2, 2), "glorious")
    with pytest.raises(ValueError, match="xavier_normal"):
        initialize_(torch.empty(2, 2), "xavier")
