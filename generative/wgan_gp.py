"""WGAN-GP (Gulrajani et al. 2017): a Wasserstein critic kept 1-Lipschitz by a gradient penalty.

The paper's details: the penalty lambda * (||grad_x D(x_hat)||_2 - 1)^2 at x_hat = eps x + (1 - eps) G(z)
with one eps ~ U[0, 1] per sample, the norm taken per sample over all pixels and channels, lambda = 10,
5 critic steps per generator step, no batch norm in the critic (the penalty is per sample), and Adam with
lr 1e-4, betas (0, 0.9). Progress counts the real images the critic has seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from gymforge.generative.gan import AdversarialLearner, GANConfig

from gymforge.engine.errors import require


@dataclass
class WGANGPConfig(GANConfig):
    """WGAN-GP: a generator, a batch-norm-free critic, the gradient penalty, several critic steps per G step."""

    learning_rate: float = 1e-4
    """Adam step size of both networks (the paper's 1e-4)."""
    beta1: float = 0.0
    """Adam's first-moment decay (the paper's 0)."""
    beta2: float = 0.9
    """Adam's second-moment decay (the paper's 0.9)."""
    critic_steps: int = 5
    """Critic updates per generator update, each on a fresh batch of real images."""
    gp_lambda: float = 10.0
    """Weight of the gradient penalty."""
    architecture: Literal["conv", "dense"] = "conv"
    """conv: a DCGAN generator and a strided-conv critic; dense: MLPs (8 x base_channels wide), which on small
    images do several times more updates per CPU second (the penalty's double backward through convolutions
    dominates the conv critic's cost), so the 16x16 digits preset uses them."""
    critic_batch_norm: bool = False
    """Always off: batch norm would couple the samples whose gradient norms the penalty constrains."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.critic_steps >= 1, f"--critic-steps must be >= 1, got {self.critic_steps}")
        require(self.gp_lambda >= 0, f"--gp-lambda must be >= 0, got {self.gp_lambda}")
        require(not self.critic_batch_norm, "wgan-gp's critic has no batch norm (the penalty is per sample); "
                "drop --critic-batch-norm")
        require(not self.conditional, "wgan-gp here is unconditional; use cgan for a conditional GAN")
        # options of the GAN loss that the Wasserstein loop does not use: refused, never silently ignored
        require(self.label_smoothing == 0, "wgan-gp has no real/fake targets to smooth; drop --label-smoothing")
        require(self.critic_shift == 0, "wgan-gp does not shift images for its critic (the penalty's interpolates "
                "would need the same shifts); drop --critic-shift")


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     lambda_: float = 10.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """lambda * E[(||grad D(x_hat)|| - 1)^2] over x_hat on lines between real and fake samples.

    eps is drawn once per sample; the gradient norm is per sample over every pixel and channel. The graph is
    kept (create_graph) so the penalty trains the critic."""
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), generator=generator, device=real.device)  # (B, 1, 1, 1)
    mixed = (eps * real + (1.0 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(mixed)  # (B,)
    (gradients,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = gradients.flatten(1).norm(2, dim=1)  # (B,)
    return lambda_ * (norms - 1.0).pow(2).mean()


class WGANGP(AdversarialLearner):
    """WGAN-GP learner: one train_step is critic_steps critic updates and one generator update."""

    name: ClassVar[str] = "wgan-gp"

    def network_architecture(self) -> str:
        return self.config.architecture

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        config = self.config
        critic_optimizer = self.optimizers["critic"]
        for _ in range(config.critic_steps):
            images, _ = self.next_batch()
            real = images * 2.0 - 1.0  # (B, C, H, W) in [-1, 1]
            with torch.no_grad():
                fake, _ = self.fake_batch(len(real), None)
            distance = self.critic(real).mean() - self.critic(fake).mean()  # the Wasserstein estimate
            penalty = gradient_penalty(self.critic, real, fake, config.gp_lambda, self.noise)
            critic_loss = -distance + penalty
            critic_optimizer.zero_grad(set_to_none=True)
            critic_loss.backward()
            critic_optimizer.step()

        fake, _ = self.fake_batch(config.batch_size, None)
        generator_loss = -self.critic(fake).mean()
        self.generator_step(generator_loss)
        return {"train/loss_critic": critic_loss.item(), "train/loss_generator": generator_loss.item(),
                "train/gradient_penalty": penalty.item(), "train/wasserstein_estimate": distance.item()}
