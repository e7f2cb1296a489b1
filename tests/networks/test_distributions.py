import math

import pytest
import torch
from gymforge.networks import CategoricalHead, DiagGaussianHead, MultiCategorical, MultiCategoricalHead
from torch.distributions import Categorical, Normal


def test_categorical_head_matches_torch_on_hand_built_logits():
    head = CategoricalHead(2, 3)
    with torch.no_grad():
        head.logits.weight.zero_()
        head.logits.bias.copy_(torch.log(torch.tensor([0.2, 0.3, 0.5])))
    distribution = head(torch.zeros(4, 2))
    assert torch.allclose(
        distribution.log_prob(torch.tensor([0, 1, 2, 2])), torch.log(torch.tensor([0.2, 0.3, 0.5, 0.5]))
    )
    expected_entropy = -(0.2 * math.log(0.2) + 0.3 * math.log(0.3) + 0.5 * math.log(0.5))
    assert torch.allclose(distribution.entropy(), torch.full((4,), expected_entropy))
    assert torch.equal(distribution.mode, torch.full((4,), 2))
    assert distribution.sample().shape == (4,)


def test_gaussian_log_prob_and_entropy_are_sums_over_action_dims():
    head = DiagGaussianHead(3, 2, log_std_init=math.log(0.5))
    with torch.no_grad():
        head.mean.weight.zero_()
        head.mean.bias.copy_(torch.tensor([1.0, -1.0]))
    distribution = head(torch.zeros(5, 3))
    actions = torch.tensor([[1.0, -1.0]]).repeat(5, 1) + 0.1
    reference = Normal(torch.tensor([1.0, -1.0]), torch.tensor([0.5, 0.5]))
    assert torch.allclose(distribution.log_prob(actions), reference.log_prob(actions).sum(-1))
    assert torch.allclose(distribution.entropy(), reference.entropy().sum().expand(5))
    # Closed form: per dim 0.5 log(2 pi e sigma^2)
    assert distribution.entropy()[0].item() == pytest.approx(2 * 0.5 * math.log(2 * math.pi * math.e * 0.25))
    assert torch.allclose(distribution.mode, torch.tensor([[1.0, -1.0]]).repeat(5, 1))
    assert distribution.sample().shape == (5, 2) and distribution.rsample().requires_grad


def test_state_dependent_std_varies_with_the_state_and_is_clamped():
    torch.manual_seed(0)
    head = DiagGaussianHead(3, 2, state_dependent_std=True, log_std_bounds=(-1.0, 0.5), init_gain=1.0)
    features = torch.randn(8, 3) * 100
    std = head(features).base_dist.scale
    assert std.std() > 0
    assert std.min() >= math.exp(-1.0) - 1e-6 and std.max() <= math.exp(0.5) + 1e-6


def test_multi_categorical_matches_a_product_of_categoricals():
    logits = torch.log(torch.tensor([[0.1, 0.9, 0.2, 0.3, 0.5]]))
    distribution = MultiCategorical(logits, [2, 3])
    first, second = Categorical(logits=logits[:, :2]), Categorical(logits=logits[:, 2:])
    actions = torch.tensor([[1, 0]])
    assert torch.allclose(distribution.log_prob(actions), torch.log(torch.tensor([0.9 * 0.2])))
    assert torch.allclose(distribution.entropy(), first.entropy() + second.entropy())
    assert torch.equal(distribution.mode, torch.tensor([[1, 2]]))


@pytest.mark.parametrize(
    "head, action_shape",
    [
        (CategoricalHead(6, 4), ()),
        (MultiCategoricalHead(6, [3, 2, 4]), (3,)),
        (DiagGaussianHead(6, 2), (2,)),
        (DiagGaussianHead(6, 2, state_dependent_std=True), (2,)),
    ],
)
def test_heads_shapes_and_gradients(head, action_shape):
    distribution = head(torch.randn(7, 6))
    actions = distribution.sample()
    assert actions.shape == (7, *action_shape) and distribution.mode.shape == (7, *action_shape)
    (distribution.log_prob(actions).sum() + distribution.entropy().sum()).backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None, name
