import pytest
import torch
from gymforge.networks import OPTIMIZERS, make_optimizer, parameter_groups
from torch import nn

LEARNING_RATES = {
    "sgd": 0.05,
    "momentum": 0.02,
    "nesterov": 0.02,
    "adagrad": 0.5,
    "rmsprop": 0.01,
    "adam": 0.05,
    "adamw": 0.05,
}


def _quadratic():
    """f(x) = 0.5 x^T A x - b^T x with A positive definite (condition number 10); minimum at A^-1 b."""
    generator = torch.Generator().manual_seed(0)
    basis, _ = torch.linalg.qr(torch.randn(5, 5, generator=generator))
    matrix = basis @ torch.diag(torch.linspace(1.0, 10.0, 5)) @ basis.T
    vector = torch.randn(5, generator=generator)
    return matrix, vector, torch.linalg.solve(matrix, vector)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_minimises_a_convex_quadratic(name):
    assert set(LEARNING_RATES) == set(OPTIMIZERS)
    matrix, vector, optimum = _quadratic()
    x = nn.Parameter(torch.zeros(5))
    optimizer = make_optimizer(name, [x], lr=LEARNING_RATES[name])

    def f(point):
        return 0.5 * point @ matrix @ point - vector @ point

    start_gap = (f(x) - f(optimum)).item()
    for _ in range(200):
        optimizer.zero_grad()
        f(x).backward()
        optimizer.step()
    assert (f(x) - f(optimum)).item() < 0.01 * start_gap


def _model():
    return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Conv1d(1, 2, 3), nn.BatchNorm1d(2))


def test_parameter_groups_exempt_biases_and_norm_weights():
    model = _model()
    decay, no_decay = parameter_groups(model, weight_decay=0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(model[0].weight), id(model[2].weight)}
    assert len(no_decay["params"]) == 6  # two biases, two norm weights, two norm biases


@pytest.mark.parametrize("name", ["sgd", "adamw", "adam"])
def test_no_weight_decay_lands_on_biases_or_norm_weights(name):
    model = _model()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = make_optimizer(name, model, lr=0.1, weight_decay=0.5)
    for parameter in model.parameters():
        parameter.grad = torch.zeros_like(parameter)  # only weight decay can move anything
    optimizer.step()
    for n, p in model.named_parameters():
        moved = not torch.equal(p, before[n])
        assert moved == (n in ("0.weight", "2.weight")), n


def test_bare_tensors_are_grouped_by_shape():
    weight, bias = nn.Parameter(torch.ones(3, 3)), nn.Parameter(torch.ones(3))
    optimizer = make_optimizer("sgd", [weight, bias], lr=1.0, weight_decay=0.5)
    weight.grad, bias.grad = torch.zeros(3, 3), torch.zeros(3)
    optimizer.step()
    assert torch.allclose(weight, torch.full((3, 3), 0.5)) and torch.equal(bias, torch.ones(3))


def test_momentum_names_configure_sgd():
    x = [nn.Parameter(torch.zeros(2))]
    assert make_optimizer("momentum", x, lr=0.1).defaults["momentum"] == 0.9
    assert make_optimizer("nesterov", x, lr=0.1).defaults["nesterov"] is True


def test_unknown_optimizer_lists_the_choices():
    with pytest.raises(ValueError, match="adamw"):
        make_optimizer("lion", [nn.Parameter(torch.zeros(1))], lr=0.1)
