"""Variational autoencoder (Kingma & Welling 2014): convolutional, beta-VAE weight, optionally conditional.

Its figure is a true likelihood bound, chosen by --likelihood:
- binarized (default): Bernoulli pixels on binarized images, as in the VAE and IWAE papers' binarized MNIST.
  Training binarizes every batch afresh (dynamic binarization); the evaluated split is binarized once with a
  fixed seed. Reported as `neg_elbo` and `iwae_nll` in nats per image: bounds on a discrete log-likelihood.
- logistic: the grey levels themselves, quantized to 256 levels, under a discretized logistic per pixel (mean
  and scale from the decoder; Salimans et al. 2017 without the mixture), reported in bits per dimension as
  `neg_elbo_bpd_logistic` and `iwae_bpd_logistic`.
The IWAE bound (Burda et al. 2016) uses --iwae-samples importance samples; each figure comes with its Monte
Carlo standard error (`*_mc_stderr`), the spread two evaluations of the same model can show. A conditional VAE
(Sohn et al. 2015) feeds the one-hot label to both encoder head and decoder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from gymforge.generative.config import GenerativeConfig
from gymforge.generative.learner import GenerativeLearner
from gymforge.generative.metrics import (
    bernoulli_log_likelihood,
    gaussian_kl,
    gaussian_log_density,
    reconstruction_error,
)
from gymforge.networks import ConvDecoder, ConvEncoder, make_optimizer
from torch import nn

from gymforge.engine.errors import require
from gymforge.engine.seeding import FIXED, stream_seed

LEVELS = 256  # the logistic likelihood's grey levels

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
    likelihood: Literal["binarized", "logistic"] = "binarized"
    """binarized: Bernoulli on binarized images (fresh binarization per batch; nats per image, as in the VAE and
    IWAE papers); logistic: a discretized logistic over 256 grey levels (bits per dimension)."""
    iwae_samples: int = 1000
    """Importance samples per test image for the IWAE bound (on digits, 1000 lands within 0.01 nat of 5000;
    validation, which selects by the ELBO, uses at most 100)."""

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
        # the logistic likelihood needs a mean and a log-scale per pixel: the decoder mirrors an encoder of twice
        # the channels (built only for its shape)
        outputs = 2 if getattr(config, "likelihood", "binarized") == "logistic" else 1
        shape_twin = self.encoder if outputs == 1 else ConvEncoder(
            (outputs * image_shape[0], *image_shape[1:]), config.channels_per_layer, kernel_sizes=4, strides=2,
            paddings=1)
        self.decoder = ConvDecoder.mirror(shape_twin, config.hidden_dim)  # logits out
        # A transposed conv shares one bias per channel; digits' borders are always dark, so each pixel
        # gets its own logit offset (an MLP decoder's last layer has this for free).
        self.pixel_bias = nn.Parameter(torch.zeros(outputs * image_shape[0], *image_shape[1:]))

    def encode(self, images: torch.Tensor, one_hot: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, H, W) -> mean, log_var (B, D)."""
        features = self.encoder(images)  # (B, F)
        if one_hot is not None:
            features = torch.cat([features, one_hot], dim=1)
        mean, log_var = self.posterior(self.hidden(features)).chunk(2, dim=1)
        return mean, log_var.clamp(-12.0, 8.0)

    def decode(self, latent: torch.Tensor, one_hot: torch.Tensor | None) -> torch.Tensor:
        """(..., D) -> logits (..., C, H, W) (binarized), or means' logits then log-scales (..., 2C, H, W)."""
        if one_hot is not None:
            latent = torch.cat([latent, one_hot.expand(*latent.shape[:-1], -1)], dim=-1)
        leading = latent.shape[:-1]
        logits = self.decoder(self.expand(latent.reshape(-1, latent.shape[-1]))) + self.pixel_bias  # (N, C, H, W)
        return logits.reshape(*leading, *logits.shape[1:])


def discretized_logistic_log_likelihood(output: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """log P(x) of images on the 256-level grid under a per-pixel logistic discretized into 256 bins (the edge
    bins take the tails), summed over pixels: output (B, 2C, H, W) = mean logits then log-scales -> (B,) nats."""
    mean_logits, log_scale = output.chunk(2, dim=1)
    mean, log_scale = torch.sigmoid(mean_logits), log_scale.clamp(min=-7.0)
    centered, inverse_scale = images - mean, torch.exp(-log_scale)
    half_bin = 0.5 / (LEVELS - 1)
    plus, minus = inverse_scale * (centered + half_bin), inverse_scale * (centered - half_bin)
    log_cdf_plus = plus - F.softplus(plus)  # log sigmoid: the bottom bin takes everything below it
    log_survival_minus = -F.softplus(minus)  # log (1 - sigmoid): the top bin takes everything above it
    bin_mass = torch.sigmoid(plus) - torch.sigmoid(minus)
    middle = inverse_scale * centered  # where the bin's mass underflows: the density times the bin width
    log_density_mass = middle - log_scale - 2.0 * F.softplus(middle) + math.log(2 * half_bin)
    log_mass = torch.where(bin_mass > 1e-5, torch.log(bin_mass.clamp_min(1e-12)), log_density_mass)
    log_probability = torch.where(images < half_bin, log_cdf_plus,
                                  torch.where(images > 1 - half_bin, log_survival_minus, log_mass))
    return log_probability.flatten(1).sum(dim=1)


def quantize(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] images onto the 256-level grid the logistic likelihood is a distribution over."""
    return torch.round(images * (LEVELS - 1)) / (LEVELS - 1)


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
        self.binarized = config.likelihood == "binarized"
        self.score_key = "neg_elbo" if self.binarized else "neg_elbo_bpd_logistic"  # type: ignore[misc]
        self.binarize_generator = torch.Generator(device=self.device).manual_seed(stream_seed(config.seed, "binarize"))
        self.rngs["binarize"] = self.binarize_generator
        self._evaluation_images: dict[str, torch.Tensor] = {}

    def likelihood_targets(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """What the likelihood is over: a binarization of the grey images, or their 256-level quantization."""
        if self.binarized:
            return torch.bernoulli(images, generator=generator)
        return quantize(images)

    def log_likelihood(self, output: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """log p(x | z) in nats, summed over pixels: (B, ...) -> (B,)."""
        if self.binarized:
            return bernoulli_log_likelihood(output, targets)
        return discretized_logistic_log_likelihood(output, targets)

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        images, labels = self.next_batch()
        targets = self.likelihood_targets(images, self.binarize_generator)  # a fresh binarization every batch
        one_hot = self.one_hot(labels)
        mean, log_var = self.model.encode(targets, one_hot)
        latent = mean + torch.randn_like(mean) * (0.5 * log_var).exp()  # reparameterization, (B, D)
        reconstruction = -self.log_likelihood(self.model.decode(latent, one_hot), targets)  # (B,)
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
        """The decoder's mean image in [0, 1] (pixel probabilities, or the logistic's means)."""
        output = self.model.decode(latent, self.one_hot(labels))
        return torch.sigmoid(output if self.binarized else output.chunk(2, dim=-3)[0])

    def encode(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.encode(images, self.one_hot(labels))[0]  # the posterior mean

    # ---- evaluation ---------------------------------------------------------------------------------
    def evaluation_images(self, split: str) -> torch.Tensor:
        """The split's images as the likelihood sees them, binarized once with a fixed seed (per split)."""
        if split not in self._evaluation_images:
            images, _ = self.split_images(split)
            generator = torch.Generator().manual_seed(stream_seed(FIXED, f"binarize-{split}"))
            self._evaluation_images[split] = self.likelihood_targets(images.cpu(), generator)
        return self._evaluation_images[split]

    @torch.no_grad()
    def likelihood_figures(self, images: torch.Tensor, labels: torch.Tensor | None, samples: int,
                           seed: int = 0) -> dict[str, float]:
        """Negative ELBO (analytic KL, reconstruction averaged over `samples` draws) and the IWAE bound with
        `samples` importance samples, per image, on `images` as given (already binarized or quantized), with
        the Monte Carlo standard error of each mean. Nats per image (binarized) or bits per dimension."""
        generator = torch.Generator().manual_seed(seed)
        neg_elbo, nll, elbo_variance, iwae_variance = [], [], [], []
        chunk = max(1, 20_000 // samples)  # images per pass: samples x chunk decodes at a time
        with self.evaluating():
            for start in range(0, len(images), chunk):
                batch = images[start:start + chunk].to(self.device)
                one_hot = self.one_hot(labels[start:start + chunk].to(self.device) if labels is not None else None)
                mean, log_var = self.model.encode(batch, one_hot)  # (B, D)
                noise = torch.randn(samples, *mean.shape, generator=generator).to(self.device)  # (K, B, D)
                latent = mean + noise * (0.5 * log_var).exp()
                output = self.model.decode(latent, one_hot)  # (K, B, C', H, W)
                log_likelihood = self.log_likelihood(
                    output.flatten(0, 1), batch.repeat(samples, 1, 1, 1)).view(samples, -1)  # (K, B)
                log_prior = gaussian_log_density(latent, torch.zeros_like(latent), torch.zeros_like(latent))
                log_weights = log_likelihood + log_prior - gaussian_log_density(latent, mean, log_var)  # (K, B)
                neg_elbo.append(-log_likelihood.mean(0) + gaussian_kl(mean, log_var))
                elbo_variance.append(log_likelihood.var(0, unbiased=samples > 1) / samples)
                log_mean_weight = torch.logsumexp(log_weights, 0) - math.log(samples)
                nll.append(-log_mean_weight)
                # delta method: Var[log mean w] ~ Var[w / E w] / K, with w / E w = exp(log w - log mean w)
                relative = (log_weights - log_mean_weight).exp()
                iwae_variance.append(relative.var(0, unbiased=samples > 1) / samples)
        count = len(images)
        scale = 1.0 if self.binarized else 1.0 / (images[0].numel() * math.log(2))  # nats -> bits per dim
        figures = {"neg_elbo": float(torch.cat(neg_elbo).mean()) * scale,
                   "iwae_nll": float(torch.cat(nll).mean()) * scale,
                   "neg_elbo_mc_stderr": float(torch.cat(elbo_variance).sum().sqrt()) / count * scale,
                   "iwae_nll_mc_stderr": float(torch.cat(iwae_variance).sum().sqrt()) / count * scale}
        if not self.binarized:
            figures = {key.replace("neg_elbo", "neg_elbo_bpd_logistic").replace("iwae_nll", "iwae_bpd_logistic"): value
                       for key, value in figures.items()}
        return {**figures, "iwae_samples": float(samples), "likelihood_images": float(count)}

    def evaluate(self, split: str = "validation") -> dict[str, float]:
        """Likelihood bounds on the validation split (fixed draws; chooses best.pt) or on the held-out test
        split (fresh draws), reconstruction error, and the sample figures of the same split."""
        images, labels = self.split_images(split)
        seed = self.split_seed(split)
        # validation selects by the ELBO, so its IWAE figure is only a guide: at most 100 samples keeps it cheap
        samples = self.config.iwae_samples if split == "test" else min(self.config.iwae_samples, 100)
        figures = self.likelihood_figures(self.evaluation_images(split), labels, samples, seed)
        with self.evaluating():
            images = images[:1000].to(self.device)
            labels = labels[:1000].to(self.device) if labels is not None else None
            reconstructions = self.reconstruct(images, labels)
        figures["reconstruction_error"] = reconstruction_error(reconstructions, images)
        return {**figures, **self.generator_figures(split)}
