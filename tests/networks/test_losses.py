import torch
import torch.nn.functional as F
from gymforge.networks import cross_entropy, huber, mse


def test_huber_is_half_mse_inside_delta_and_linear_outside():
    target = torch.zeros(5)
    inside = torch.tensor([-1.5, -0.3, 0.0, 0.7, 1.9])
    assert torch.allclose(huber(inside, target, delta=2.0), F.mse_loss(inside, target) / 2)
    outside = torch.tensor([3.0, 5.0, 9.0])
    losses = huber(outside, torch.zeros(3), delta=2.0, reduction="none")
    assert torch.allclose(losses, 2.0 * (outside - 1.0))  # delta (|e| - delta / 2)
    assert torch.allclose(losses.diff() / outside.diff(), torch.tensor(2.0))  # slope delta


def test_mse():
    assert mse(torch.tensor([1.0, -2.0]), torch.tensor([0.0, 0.0])).item() == 2.5


def test_cross_entropy_with_smoothing_equals_soft_target_cross_entropy():
    torch.manual_seed(0)
    logits, labels = torch.randn(6, 5), torch.randint(0, 5, (6,))
    soft = F.one_hot(labels, 5).float() * 0.9 + 0.1 / 5  # the true class 1 - s + s/K, the others s/K
    expected = -(soft * logits.log_softmax(-1)).sum(-1).mean()
    assert torch.allclose(cross_entropy(logits, labels, label_smoothing=0.1), expected)
