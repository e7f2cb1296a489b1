import pytest
import torch
import torch.nn.functional as F
from gymforge.networks import LOSSES, make_loss, smooth_labels


def test_huber_is_half_mse_inside_delta_and_linear_outside():
    huber = make_loss("huber")
    target = torch.zeros(5)
    inside = torch.tensor([-1.5, -0.3, 0.0, 0.7, 1.9])
    assert torch.allclose(huber(inside, target, delta=2.0), F.mse_loss(inside, target) / 2)
    outside = torch.tensor([3.0, 5.0, 9.0])
    losses = huber(outside, torch.zeros(3), delta=2.0, reduction="none")
    assert torch.allclose(losses, 2.0 * (outside - 1.0))  # delta (|e| - delta / 2)
    assert torch.allclose(losses.diff() / outside.diff(), torch.tensor(2.0))  # slope delta


def test_pseudo_huber_is_quadratic_near_zero_and_linear_far_away():
    pseudo_huber = make_loss("pseudo_huber")
    small = torch.tensor([1e-3])
    assert pseudo_huber(small, torch.zeros(1)).item() == pytest.approx(0.5e-6, rel=1e-3)
    large = torch.tensor([1e4, 2e4])
    losses = pseudo_huber(large, torch.zeros(2), reduction="none")
    assert (losses[1] - losses[0]).item() == pytest.approx(1e4, rel=1e-3)


def test_mse_and_mae():
    prediction, target = torch.tensor([1.0, -2.0]), torch.tensor([0.0, 0.0])
    assert make_loss("mse")(prediction, target).item() == 2.5
    assert make_loss("mae")(prediction, target).item() == 1.5


def test_label_smoothing_targets():
    targets = smooth_labels(torch.tensor([2, 0]), num_classes=4, smoothing=0.2)
    assert torch.allclose(targets, torch.tensor([[0.05, 0.05, 0.85, 0.05], [0.85, 0.05, 0.05, 0.05]]))


def test_cross_entropy_with_smoothing_equals_soft_target_cross_entropy():
    torch.manual_seed(0)
    logits, labels = torch.randn(6, 5), torch.randint(0, 5, (6,))
    expected = -(smooth_labels(labels, 5, 0.1) * logits.log_softmax(-1)).sum(-1).mean()
    assert torch.allclose(make_loss("cross_entropy")(logits, labels, label_smoothing=0.1), expected)


def test_bce_with_logits_smoothing():
    logits, target = torch.tensor([0.3, -1.0]), torch.tensor([1.0, 0.0])
    smoothed = torch.tensor([0.95, 0.05])
    expected = F.binary_cross_entropy(torch.sigmoid(logits), smoothed)
    assert torch.allclose(make_loss("bce_with_logits")(logits, target, label_smoothing=0.1), expected)


def test_every_named_loss_backpropagates():
    for name, loss in LOSSES.items():
        logits = torch.randn(4, 3, requires_grad=True)
        target = torch.tensor([0, 2, 1, 1]) if name == "cross_entropy" else torch.rand(4, 3)
        loss(logits, target).backward()
        assert logits.grad is not None, name


def test_unknown_loss_lists_the_choices():
    with pytest.raises(ValueError, match="huber"):
        make_loss("hinge")
