"""Autoencoders, dense or convolutional, with a denoising option (Vincent et al. 2008).

The decoder outputs Bernoulli logits trained with binary cross-entropy summed over pixels (the VAE's
reconstruction term, without the KL); evaluation reports the held-out reconstruction error as mean squared
error per pixel. A denoising autoencoder sees inputs corrupted by Gaussian noise and reconstructs the clean
image; it also reports its error on corrupted held-out inputs. An autoencoder has no prior to sample from:
`gymforge sample` shows reconstructions (--reconstruct) or walks between two images' codes (--interpolate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from gymforge.generative.config import GenerativeConfig
from gymforge.generative.learner import GenerativeLearner
from gymforge.generative.metrics import bernoulli_log_likelihood, reconstruction_error
from gymforge.networks import MLP, ConvDecoder, ConvEncoder, make_optimizer
from torch import nn

from gymforge.engine.errors import require
from gymforge.engine.seeding import stream_seed


@dataclass
class AEConfig(GenerativeConfig):
    """Autoencoder: dense (MLP) or convolutional, optionally denoising."""

    architecture: Literal["conv", "dense"] = "conv"
    """conv: strided ConvEncoder and its mirror ConvDecoder; dense: MLPs on the flattened image."""
    latent_dim: int = 32
    """Size of the code."""
    hidden_sizes: tuple[int, ...] = (256,)
    """Hidden widths of the dense encoder (the decoder mirrors them)."""
    channels_per_layer: tuple[int, ...] = (32, 64)
    """Conv channels of the conv encoder (stride 2 each); the decoder mirrors them."""
    denoise_std: float = 0.0
    """Denoising: corrupt inputs with Gaussian noise of this std (clamped to [0, 1]); targets stay clean."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.latent_dim > 0, f"--latent-dim must be positive, got {self.latent_dim}")
        require(self.denoise_std >= 0, f"--denoise-std must be >= 0, got {self.denoise_std}")


class AutoencoderModel(nn.Module):
    """encode: (B, C, H, W) -> (B, D); decode: (B, D) -> logits (B, C, H, W)."""

    def __init__(self, image_shape: tuple[int, int, int], config: AEConfig) -> None:
        super().__init__()
        self.image_shape = image_shape
        if config.architecture == "dense":
            pixels = image_shape[0] * image_shape[1] * image_shape[2]
            self.encoder = nn.Sequential(nn.Flatten(), MLP(pixels, config.hidden_sizes, config.latent_dim))
            self.decoder = MLP(config.latent_dim, config.hidden_sizes[::-1], pixels)
        else:
            convolutions = ConvEncoder(image_shape, config.channels_per_layer, kernel_sizes=4, strides=2, paddings=1)
            self.encoder = nn.Sequential(convolutions, nn.Linear(convolutions.output_dim, config.latent_dim))
            self.decoder = ConvDecoder.mirror(convolutions, config.latent_dim)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.decoder(codes).view(-1, *self.image_shape)


class Autoencoder(GenerativeLearner):
    """One train_step is one batch of summed binary cross-entropy between clean images and reconstructions."""

    name: ClassVar[str] = "ae"
    score_key: ClassVar[str] = "reconstruction_error"
    score_mode: ClassVar[str] = "min"
    has_prior: ClassVar[bool] = False
    judged: ClassVar[bool] = False

    def __init__(self, config: AEConfig, device: torch.device | None = None) -> None:
        super().__init__(config, device)
        self.latent_dim = config.latent_dim
        self.model = AutoencoderModel(self.image_shape, config).to(self.device)
        self.networks = {"autoencoder": self.model}
        self.optimizers = {"autoencoder": make_optimizer("adam", self.model, lr=config.learning_rate)}
        self.corruption = torch.Generator(device=self.device).manual_seed(stream_seed(config.seed, "corruption"))
        self.rngs["corruption"] = self.corruption

    def corrupt(self, images: torch.Tensor) -> torch.Tensor:
        std = self.config.denoise_std
        if std == 0:
            return images
        noise = torch.randn(images.shape, generator=self.corruption, device=images.device)
        return (images + std * noise).clamp(0.0, 1.0)

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        images, _ = self.next_batch()
        logits = self.model.decode(self.model.encode(self.corrupt(images)))
        loss = -bernoulli_log_likelihood(logits, images).mean()
        optimizer = self.optimizers["autoencoder"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"train/loss": loss.item(),
                "train/reconstruction_error": reconstruction_error(torch.sigmoid(logits.detach()), images)}

    def encode(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.encode(images)

    def decode(self, latent: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.model.decode(latent))

    def evaluate(self, split: str = "validation") -> dict[str, float]:
        """Reconstruction (and denoising) error on the validation split or the held-out test split."""
        images = self.split_images(split)[0].to(self.device)
        with self.evaluating():
            figures = {"reconstruction_error": reconstruction_error(self.reconstruct(images), images)}
            if self.config.denoise_std > 0:
                generator = torch.Generator(device=self.device).manual_seed(self.eval_seed())
                noisy = images + self.config.denoise_std * torch.randn(images.shape, generator=generator,
                                                                       device=self.device)
                figures["denoising_error"] = reconstruction_error(self.reconstruct(noisy.clamp(0, 1)), images)
                figures["noisy_input_error"] = reconstruction_error(noisy.clamp(0, 1), images)
        return figures
