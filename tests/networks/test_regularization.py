import torch
from gymforge.networks import clip_gradients, l1_penalty, l2_penalty
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


def test_penalties_skip_biases_by_default():
    layer = nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, -2.0], [0.0, 3.0]]))
        layer.bias.fill_(10.0)
    assert l1_penalty(layer).item() == 6.0
    assert l2_penalty(layer).item() == 14.0
    assert l2_penalty(layer, include_biases=True).item() == 214.0
    l2_penalty(layer).backward()
    assert torch.allclose(layer.weight.grad, 2 * layer.weight)
