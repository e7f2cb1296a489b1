import pytest
import torch
from gymforge.networks import ACTIVATIONS, make_activation
from torch import nn


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_builds_and_keeps_shape(name):
    activation = make_activation(name)
    x = torch.randn(3, 5)
    assert isinstance(activation, nn.Module)
    assert activation(x).shape == x.shape


def test_known_values():
    x = torch.tensor([-1.0, 0.0, 2.0])
    assert torch.equal(make_activation("relu")(x), torch.tensor([0.0, 0.0, 2.0]))
    assert torch.allclose(make_activation("sigmoid")(torch.zeros(1)), torch.tensor([0.5]))
    assert torch.allclose(make_activation("silu")(x), x * torch.sigmoid(x))
    assert isinstance(make_activation(None), nn.Identity)


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="tanh"):
        make_activation("swishy")
