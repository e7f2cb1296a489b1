import pytest
import torch
from gymforge.networks import MLP


@pytest.mark.parametrize("input_dim", [1, 7])
@pytest.mark.parametrize("hidden_sizes", [(), (16,), (32, 8)])
@pytest.mark.parametrize("norm", [None, "batch", "layer"])
@pytest.mark.parametrize("leading", [(4,), (2, 3)])
def test_shapes_and_every_parameter_gets_a_gradient(input_dim, hidden_sizes, norm, leading):
    mlp = MLP(input_dim, hidden_sizes, output_dim=3, activation="tanh", norm=norm, dropout=0.1)
    y = mlp(torch.randn(*leading, input_dim))
    assert y.shape == (*leading, 3)
    y.square().sum().backward()
    for name, parameter in mlp.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_feature_extractor_without_output_layer():
    mlp = MLP(5, [8, 6])
    assert mlp.output_dim == 6
    assert mlp(torch.randn(2, 5)).shape == (2, 6)


def test_output_activation_bounds_the_output():
    mlp = MLP(4, [8], output_dim=2, output_activation="tanh")
    assert mlp(100 * torch.randn(50, 4)).abs().max() <= 1.0


@pytest.mark.parametrize("kwargs", [{"activation": "nope"}, {"norm": "group"}, {"output_activation": "x"}])
def test_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        MLP(3, [4], 1, **kwargs)
