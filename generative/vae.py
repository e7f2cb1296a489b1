"""Variational autoencoder (Kingma & Welling 2014): convolutional, beta-VAE weight, optionally conditional.

The decoder is Bernoulli on [0, 1] pixels (logits out), the posterior a diagonal Gaussian; the loss is the
negative ELBO per image in nats. Evaluation reports the held-out negative ELBO (beta = 1, the true bound)
and IWAE's importance-weighted NLL estimate (Burda et al. 2016), plus classifier figures of its samples.
A conditional VAE (Sohn et al. 2015) feeds the one-hot label to both encoder head and decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from generative.config import GenerativeConfig
from generative.learner import GenerativeLearner
from generative.metrics import bernoulli_log_likelihood, gaussian_kl, gaussian_log_density, iwae_nll
from gymforge.errors import require
from networks import ConvDecoder, ConvEncoder, make_optimizer


@dataclass
class VAEConfig(GenerativeConfig):
    """Convolutional VAE with a Bernoulli decoder; --beta weights the KL; --conditional uses the labels."""

    latent_dim: int = 16
    """Size of the latent code z."""
    channels_per_layer: tuple[int, ...] = (32, 64)
    """Conv channels of the encoder (stride 2 each); the decoder mirrors them."""
    hidden_dim: int = 256
    """Width of the dense layer between the conv features and the latent."""
    beta: float = 1.0
    """KL weight (beta-VAE); 1 trains on the true ELBO. Evaluation always reports beta = 1."""
    conditional: bool = False
    """Condition encoder and decoder on the class label (needs labelled data); enables `sample --label`."""
    iwae_samples: int = 64
    """Importance samples per held-out image for the IWAE NLL estimate."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.latent_dim > 0, f"--latent-dim must be positive, got {self.latent_dim}")
        require(self.beta >= 0, f"--beta must be >= 0, got {self.beta}")
        require(self.iwae_samples >= 1, f"--iwae-samples must be >= 1, got {self.iwae_samples}")
        require(len(self.channels_per_layer) >= 1, "--channels-per-layer needs at least one layer")


class VAEModel(nn.Module):
    """q(z | x[, y]) and p(x | z[, y]) built from networks' ConvEncoder and its mirror ConvDecoder."""

    def __init__(self, image_shape: tuple[int, int, int], config: VAEConfig, num_classes: int) -> None:
        super().__init__()
        self.encoder = ConvEncoder(image_shape, config.channels_per_layer, kernel_sizes=4, strides=2, paddings=1)
        self.hidden = nn.Sequential(nn.Linear(self.encoder.output_dim + num_classes, config.hidden_dim), nn.ReLU())
        self.posterior = nn.Linear(config.hidden_dim, 2 * config.latent_dim)
        self.expand = nn.Sequential(nn.Linear(config.latent_dim + num_classes, config.hidden_dim), nn.ReLU())
        self.decoder = ConvDecoder.mirror(self.encoder, config.hidden_dim)  # logits out
        # A transposed conv shares one bias per channel; digits' borders are always dark, so each pixel
        # gets its own logit offset (an MLP decoder's last layer has this for free).
        self.pixel_bias = nn.Parameter(torch.zeros(image_shape))

    def encode(self, images: torch.Tensor, one_hot: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, H, W) -> mean, log_var (B, D)."""
        features = self.encoder(images)  # (B, F)
        if one_hot is not None:
            features = torch.cat([features, one_hot], dim=1)
        mean, log_var = self.posterior(self.hidden(features)).chunk(2, dim=1)
        return mean, log_var.clamp(-12.0, 8.0)

    def decode(self, latent: torch.Tensor, one_hot: torch.Tensor | None) -> torch.Tensor:
        """(..., D) -> logits (..., C, H, W)."""
        if one_hot is not None:
            latent = torch.cat([latent, one_hot.expand(*latent.shape[:-1], -1)], dim=-1)
        leading = latent.shape[:-1]
        logits = self.decoder(self.expand(latent.reshape(-1, latent.shape[-1]))) + self.pixel_bias  # (N, C, H, W)
        return logits.reshape(*leading, *logits.shape[1:])


class VAE(GenerativeLearner):
    """A VAE learner: one train_step is one batch of the negative ELBO (with the beta weight)."""

    name: ClassVar[str] = "vae"
    score_key: ClassVar[str] = "neg_elbo"
    score_mode: ClassVar[str] = "min"

    def __init__(self, config: VAEConfig, device: torch.device | None = None) -> None:
        super().__init__(config, device)
        self.latent_dim = config.latent_dim
        self.model = VAEModel(self.image_shape, config, self.num_classes).to(self.device)
        self.networks = {"vae": self.model}
        self.optimizers = {"vae": make_optimizer("adam", self.model, lr=config.learning_rate)}

    def train_step(self) -> dict[str, float]:
        images, labels = self.next_batch()
        one_hot = self.one_hot(labels)
        mean, log_var = self.model.encode(images, one_hot)
        latent = mean + torch.randn_like(mean) * (0.5 * log_var).exp()  # reparameterization, (B, D)
        reconstruction = -bernoulli_log_likelihood(self.model.decode(latent, one_hot), images)  # (B,)
        kl = gaussian_kl(mean, log_var)  # (B,)
        loss = (reconstruction + self.config.beta * kl).mean()
        optimizer = self.optimizers["vae"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"train/loss": loss.item(), "train/reconstruction_nats": reconstruction.mean().item(),
                "train/kl_nats": kl.mean().item()}

    # ---- the generative interface -------------------------------------------------------------------
    def decode(self, latent: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.model.decode(latent, self.one_hot(labels)))

    def encode(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.encode(images, self.one_hot(labels))[0]  # the posterior mean

    # ---- evaluation ---------------------------------------------------------------------------------
    @torch.no_grad()
    def likelihood_figures(self, images: torch.Tensor, labels: torch.Tensor | None, samples: int,
                           seed: int = 0) -> dict[str, float]:
        """Held-out negative ELBO (analytic KL, reconstruction averaged over `samples` draws) and IWAE NLL."""
        generator = torch.Generator().manual_seed(seed)
        neg_elbo, nll = [], []
        with self.evaluating():
            for start in range(0, len(images), 100):
                batch = images[start:start + 100].to(self.device)
                one_hot = self.one_hot(labels[start:start + 100].to(self.device) if labels is not None else None)
                mean, log_var = self.model.encode(batch, one_hot)  # (B, D)
                noise = torch.randn(samples, *mean.shape, generator=generator).to(self.device)  # (K, B, D)
                latent = mean + noise * (0.5 * log_var).exp()
                log_likelihood = bernoulli_log_likelihood(
                    self.model.decode(latent, one_hot).flatten(0, 1), batch.repeat(samples, 1, 1, 1)
                ).view(samples, -1)  # (K, B)
                log_prior = gaussian_log_density(latent, torch.zeros_like(latent), torch.zeros_like(latent))
                log_posterior = gaussian_log_density(latent, mean, log_var)
                neg_elbo.append(-log_likelihood.mean(0) + gaussian_kl(mean, log_var))
                nll.append(iwae_nll(log_likelihood + log_prior - log_posterior))
        return {"neg_elbo": float(torch.cat(neg_elbo).mean()), "iwae_nll": float(torch.cat(nll).mean()),
                "iwae_samples": float(samples)}

    def evaluate(self) -> dict[str, float]:
        figures = self.likelihood_figures(self.data.test, self.data.test_labels, self.config.iwae_samples)
        with self.evaluating():
            images = self.data.test[:1000].to(self.device)
            labels = self.data.test_labels[:1000].to(self.device) if self.data.test_labels is not None else None
            reconstructions = self.reconstruct(images, labels)
        figures["reconstruction_error"] = float((reconstructions - images).pow(2).mean())
        return {**figures, **self.generator_figures()}
