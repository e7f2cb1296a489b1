"""The gradient penalty on a critic whose gradient is known, and WGAN-GP's training step."""

import torch
from gymforge.generative.wgan_gp import WGANGP, WGANGPConfig, gradient_penalty


def test_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared():
    weight = torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    weight = weight / weight.norm() * 3.0  # ||w|| = 3 over every pixel and channel

    def critic(images):  # (B, 3, 4, 4) -> (B,): D(x) = <w, x> + 0.5, so grad D = w everywhere
        return (images * weight).flatten(1).sum(1) + 0.5

    real, fake = torch.randn(16, 3, 4, 4), torch.randn(16, 3, 4, 4)
    penalty = gradient_penalty(critic, real, fake, lambda_=10.0)
    assert torch.allclose(penalty, torch.tensor(10.0 * (3.0 - 1.0) ** 2))


def test_penalty_is_per_sample_not_per_batch():
    """A critic whose gradient norm is 2 for half the samples and 0 for the others: mean of (n-1)^2 is 1,
    while a batch-wide norm would give something else."""
    def critic(images):  # (B, 1) -> (B,)
        scale = torch.tensor([2.0, 0.0]).repeat(images.shape[0] // 2)
        return images[:, 0] * scale

    penalty = gradient_penalty(critic, torch.randn(8, 1), torch.randn(8, 1), lambda_=1.0)
    assert torch.allclose(penalty, torch.tensor(1.0))


def test_penalty_trains_the_critic():
    critic = torch.nn.Linear(4, 1)
    penalty = gradient_penalty(lambda x: critic(x).squeeze(1), torch.randn(5, 4), torch.randn(5, 4))
    penalty.backward()
    assert critic.weight.grad is not None and critic.weight.grad.abs().sum() > 0


def test_wgan_gp_details_and_training_step():
    learner = WGANGP(WGANGPConfig(batch_size=32, base_channels=8))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in learner.critic.modules())
    group = learner.optimizers["critic"].param_groups[0]
    assert group["lr"] == 1e-4 and group["betas"] == (0.0, 0.9)
    first = learner.train_step()
    assert learner.progress == 5 * 32  # five critic steps, each on a fresh real batch
    for _ in range(15):
        metrics = learner.train_step()
    assert metrics["train/wasserstein_estimate"] > first["train/wasserstein_estimate"]


def test_dense_architecture_gives_mlps_with_a_norm_free_critic():
    learner = WGANGP(WGANGPConfig(batch_size=16, base_channels=8, architecture="dense"))
    assert not any(isinstance(m, torch.nn.Conv2d) for m in learner.critic.modules())
    assert not any(isinstance(m, (torch.nn.BatchNorm1d, torch.nn.LayerNorm)) for m in learner.critic.modules())
    learner.train_step()
    assert learner.sample_images(4, seed=0).shape == (4, 1, 16, 16)
