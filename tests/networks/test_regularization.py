import torch
from gymforge.networks import clip_gradients
from torch import nn


def _with_grads(values):
    parameters = [nn.Parameter(torch.zeros(len(v))) for v in values]
    for parameter, value in zip(parameters, values):
        parameter.grad = torch.tensor(value)
    return parameters


def test_clip_by_norm_rescales_to_max_norm_and_returns_the_old_norm():
    parameters = _with_grads([[3.0, 0.0], [0.0, 4.0]])
    norm = clip_gradients(parameters, max_norm=1.0)
    assert torch.isclose(norm, torch.tensor(5.0))
    assert torch.allclose(parameters[0].grad, torch.tensor([0.6, 0.0]), atol=1e-5)
    assert torch.allclose(parameters[1].grad, torch.tensor([0.0, 0.8]), atol=1e-5)


def test_clip_by_value_clamps_each_element():
    parameters = _with_grads([[3.0, -0.2], [-4.0, 0.5]])
    clip_gradients(parameters, max_value=0.5)
    assert torch.equal(parameters[0].grad, torch.tensor([0.5, -0.2]))
    assert torch.equal(parameters[1].grad, torch.tensor([-0.5, 0.5]))

