"""GANs on one adversarial loop: the MLP GAN (Goodfellow et al. 2014), DCGAN (Radford et al. 2016) and the
conditional GAN (Mirza & Osindero 2014, here with DCGAN's convolutional networks).

The well-known details: DCGAN weights from N(0, 0.02), Adam with lr 2e-4 and betas (0.5, 0.999), LeakyReLU
0.2 in the discriminator, the non-saturating generator loss, optional one-sided label smoothing (real
targets 1 - s, fake targets stay 0; Salimans et al. 2016). Generators output tanh images in [-1, 1]; the
data's [0, 1] is mapped onto that range for the discriminator and back for grids and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from gymforge.generative.config import GenerativeConfig
from gymforge.generative.data import augment
from gymforge.generative.learner import GenerativeLearner
from gymforge.networks import MLP, ConvDecoder, ConvEncoder, init_module, make_optimizer
from torch import nn

from gymforge.engine.errors import ConfigError, require
from gymforge.engine.seeding import stream_seed


@dataclass
class GANConfig(GenerativeConfig):
    """Adversarial training of a generator against a discriminator (gan: MLPs, dcgan/cgan: convolutional)."""

    learning_rate: float = 2e-4
    """Adam step size of both networks (DCGAN's 2e-4)."""
    beta1: float = 0.5
    """Adam's first-moment decay (DCGAN's 0.5)."""
    beta2: float = 0.999
    """Adam's second-moment decay."""
    latent_dim: int = 64
    """Size of the noise vector z ~ N(0, I)."""
    base_channels: int = 32
    """Conv width of the DCGAN-style networks (doubling per stride-2 layer); MLP widths are 8x this."""
    label_smoothing: float = 0.0
    """One-sided label smoothing: the discriminator's real targets are 1 - this (fake targets stay 0)."""
    conditional: bool = False
    """Condition both networks on the class label (set by cgan)."""
    critic_batch_norm: bool = True
    """Batch norm in the convolutional discriminator, as in DCGAN (on 16x16 digits it lets the discriminator
    win and classes drop out, so the digits presets turn it off)."""

    critic_shift: int = 0
    """Differentiable augmentation (Zhao et al. 2020): real and generated images alike are shifted by up to
    this many pixels before the discriminator sees them, so it cannot memorise a small dataset, while the
    generator still learns unshifted images (its gradients pass through the same shifts); 0 is off."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.latent_dim > 0, f"--latent-dim must be positive, got {self.latent_dim}")
        require(self.base_channels > 0, f"--base-channels must be positive, got {self.base_channels}")
        require(0.0 <= self.label_smoothing < 0.5, f"--label-smoothing must be in [0, 0.5), got {self.label_smoothing}")
        require(0.0 <= self.beta1 < 1.0 and 0.0 <= self.beta2 < 1.0, "--beta1 and --beta2 must be in [0, 1)")
        require(self.critic_shift >= 0, f"--critic-shift must be >= 0, got {self.critic_shift}")


@dataclass
class MLPGANConfig(GANConfig):
    """The MLP GAN: an MLP generator and discriminator (with --conditional, both also see the one-hot label)."""

    critic_batch_norm: bool = False
    """The MLP discriminator has no batch norm; asking for it is refused rather than ignored."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(not self.critic_batch_norm, "gan's MLP discriminator has no batch norm; drop --critic-batch-norm "
                "(dcgan and cgan have it)")


@dataclass
class ConditionalGANConfig(GANConfig):
    """The conditional GAN: DCGAN networks that also see the one-hot class label."""

    conditional: bool = True
    """Condition both networks on the class label (cgan always does)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.conditional, "cgan is conditional by definition; use dcgan for an unconditional GAN")


def leaky_relu_slope(module: nn.Module, slope: float = 0.2) -> nn.Module:
    """Set every LeakyReLU of a module to `slope` (GAN discriminators use 0.2)."""
    for layer in module.modules():
        if isinstance(layer, nn.LeakyReLU):
            layer.negative_slope = slope
    return module


class ConvCritic(nn.Module):
    """Image (and one-hot label maps) -> one score: strided 4x4 convs, LeakyReLU 0.2, a linear read-out."""

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int, base_channels: int,
                 batch_norm: bool) -> None:
        super().__init__()
        channels, height, _ = image_shape
        widths = [base_channels * 2 ** k for k in range(max(1, (height // 4).bit_length() - 1))]  # to 4x4
        self.encoder = leaky_relu_slope(ConvEncoder((channels + num_classes, height, height), widths,
                                                    kernel_sizes=4, strides=2, paddings=1, batch_norm=batch_norm,
                                                    activation="leaky_relu"))
        self.read_out = nn.Linear(self.encoder.output_dim, 1)

    def forward(self, images: torch.Tensor, one_hot: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C, H, W) -> (B,) scores (logits)."""
        if one_hot is not None:
            maps = one_hot.view(*one_hot.shape, 1, 1).expand(-1, -1, *images.shape[-2:])  # (B, K, H, W)
            images = torch.cat([images, maps], dim=1)
        return self.read_out(self.encoder(images)).squeeze(1)


class MLPCritic(nn.Module):
    """Flattened image (and the one-hot label, when conditional) -> one score through LeakyReLU 0.2 layers."""

    def __init__(self, image_shape: tuple[int, int, int], width: int, num_classes: int = 0) -> None:
        super().__init__()
        pixels = image_shape[0] * image_shape[1] * image_shape[2]
        self.body = leaky_relu_slope(MLP(pixels + num_classes, (2 * width, width), 1, activation="leaky_relu"))

    def forward(self, images: torch.Tensor, one_hot: torch.Tensor | None = None) -> torch.Tensor:
        inputs = images.flatten(1) if one_hot is None else torch.cat([images.flatten(1), one_hot], dim=1)
        return self.body(inputs).squeeze(1)


class MLPGenerator(nn.Module):
    """(B, latent_dim [+ classes]) -> (B, C, H, W) in [-1, 1]; the caller appends the one-hot label."""

    def __init__(self, latent_dim: int, image_shape: tuple[int, int, int], width: int) -> None:
        super().__init__()
        self.image_shape = image_shape
        pixels = image_shape[0] * image_shape[1] * image_shape[2]
        self.body = MLP(latent_dim, (width, 2 * width), pixels, norm="batch", output_activation="tanh")

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.body(latent).view(-1, *self.image_shape)  # (B, C, H, W) in [-1, 1]


class AdversarialLearner(GenerativeLearner):
    """The loop every GAN here shares: a discriminator step, then a generator step, per batch of real images."""

    name: ClassVar[str] = "gan"
    architecture: ClassVar[str] = "conv"
    """conv (DCGAN-style networks) or dense (MLPs)."""

    def __init__(self, config: GANConfig, device: torch.device | None = None) -> None:
        super().__init__(config, device)
        self.latent_dim = config.latent_dim
        if not self.data.labelled:  # no judge: best.pt is chosen by FID in the features learned without labels
            self.score_key = "fid_learned"  # type: ignore[misc]
        self.generator, self.critic = self.build_networks()
        self.networks = {"generator": self.generator, "critic": self.critic}
        self.optimizers = {name: self.make_optimizer(network) for name, network in self.networks.items()}
        self.noise = torch.Generator(device=self.device).manual_seed(stream_seed(config.seed, "noise"))
        self.shift_generator = torch.Generator().manual_seed(stream_seed(config.seed, "shift"))
        self.rngs.update(noise=self.noise, shift=self.shift_generator)

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        config, shape = self.config, self.image_shape
        if self.network_architecture() == "dense":
            width = 8 * config.base_channels
            generator = MLPGenerator(config.latent_dim + self.num_classes, shape, width)
            critic = MLPCritic(shape, width, self.num_classes)
        else:
            generator = ConvDecoder.dcgan(config.latent_dim + self.num_classes, shape, config.base_channels)
            critic = ConvCritic(shape, self.num_classes, config.base_channels, config.critic_batch_norm)
        for network in (generator, critic):  # DCGAN: every weight from N(0, 0.02), biases 0
            init_module(network, "normal", std=0.02)
            for layer in network.modules():
                if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):  # norm gains from N(1, 0.02)
                    nn.init.normal_(layer.weight, 1.0, 0.02)
                    nn.init.zeros_(layer.bias)
        return generator.to(self.device), critic.to(self.device)

    def network_architecture(self) -> str:
        """conv or dense: fixed by the model here (gan is dense, dcgan and cgan conv); wgan-gp lets the config choose."""
        return self.architecture

    def make_optimizer(self, network: nn.Module) -> torch.optim.Optimizer:
        config = self.config
        return make_optimizer("adam", network, lr=config.learning_rate, betas=(config.beta1, config.beta2))

    def generate(self, latent: torch.Tensor, one_hot: torch.Tensor | None) -> torch.Tensor:
        """(B, D) -> (B, C, H, W) in [-1, 1]."""
        if one_hot is not None:
            latent = torch.cat([latent, one_hot], dim=1)
        return self.generator(latent)

    def decode(self, latent: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return ((self.generate(latent, self.one_hot(labels)) + 1.0) / 2.0).clamp(0.0, 1.0)

    def critic_view(self, images: torch.Tensor) -> torch.Tensor:
        """[-1, 1] images as the discriminator sees them: randomly shifted when critic_shift > 0 (differentiable)."""
        if self.config.critic_shift == 0:
            return images
        shifted = augment((images + 1.0) / 2.0, False, self.config.critic_shift, 0.0, self.shift_generator)
        return shifted * 2.0 - 1.0

    def generator_step(self, loss: torch.Tensor) -> None:
        """One generator update from `loss` (each model defines its own generator loss)."""
        optimizer = self.optimizers["generator"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def fake_batch(self, size: int, labels: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Generated images in [-1, 1] with random class labels like the real batch's (for cgan)."""
        latent = torch.randn(size, self.latent_dim, generator=self.noise, device=self.device)
        one_hot = self.one_hot(labels)
        return self.generate(latent, one_hot), one_hot

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        images, labels = self.next_batch()
        real = images * 2.0 - 1.0  # (B, C, H, W) in [-1, 1]
        fake, one_hot = self.fake_batch(len(real), labels)
        critic_optimizer = self.optimizers["critic"]

        real_logits = self.critic(self.critic_view(real), one_hot)  # (B,)
        fake_logits = self.critic(self.critic_view(fake.detach()), one_hot)
        real_target = torch.full_like(real_logits, 1.0 - self.config.label_smoothing)
        critic_loss = (F.binary_cross_entropy_with_logits(real_logits, real_target)
                       + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        critic_optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()
        critic_optimizer.step()

        generated_logits = self.critic(self.critic_view(fake), one_hot)  # non-saturating: maximize log D(G(z))
        generator_loss = F.binary_cross_entropy_with_logits(generated_logits, torch.ones_like(generated_logits))
        self.generator_step(generator_loss)
        return {"train/loss_discriminator": critic_loss.item(), "train/loss_generator": generator_loss.item(),
                "train/d_real": torch.sigmoid(real_logits).mean().item(),
                "train/d_fake": torch.sigmoid(fake_logits).mean().item()}

    def evaluate(self, split: str = "validation") -> dict[str, float]:
        """Sample figures against the validation split (fixed samples, choosing best.pt) or the test split."""
        return self.generator_figures(split)


class GAN(AdversarialLearner):
    """The original GAN with MLP generator and discriminator."""

    name: ClassVar[str] = "gan"
    architecture: ClassVar[str] = "dense"

    def __init__(self, config: GANConfig, device: torch.device | None = None) -> None:
        if config.critic_batch_norm and not isinstance(config, MLPGANConfig):
            raise ConfigError("gan's MLP discriminator has no batch norm; build it with MLPGANConfig or "
                              "critic_batch_norm=False")
        super().__init__(config, device)


class DCGAN(AdversarialLearner):
    """Deep convolutional GAN: transposed-conv generator with batch norm, strided-conv discriminator."""

    name: ClassVar[str] = "dcgan"


class ConditionalGAN(AdversarialLearner):
    """Conditional DCGAN: the generator gets z and the one-hot label, the discriminator label maps."""

    name: ClassVar[str] = "cgan"
