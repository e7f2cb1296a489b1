"""Figures of merit for generative models, in the conventions of the papers that introduced them.

- negative ELBO in nats per image: the Bernoulli reconstruction term summed over pixels plus the analytic
  KL of a diagonal Gaussian posterior from N(0, I) (Kingma & Welling 2014; Burda et al. 2016 report the same);
- an importance-weighted NLL estimate (IWAE's bound with K samples), never above the ELBO in expectation;
- FID and an Inception-Score-style figure on the features/probabilities of gymforge's own classifier,
  with the number of samples stated next to them (FID is biased upwards for small sample counts);
- KID, the unbiased kernel distance, beside FID on features learned without labels (unlabelled data);
- reconstruction error: mean squared error per pixel on [0, 1] images.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def gaussian_kl(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) summed over latent dims: (B, D) -> (B,)."""
    return 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=1)


def bernoulli_log_likelihood(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """log p(x | z) of [0, 1] pixels under Bernoulli(sigmoid(logits)), summed over pixels: (B, ...) -> (B,)."""
    return -F.binary_cross_entropy_with_logits(logits, images, reduction="none").flatten(1).sum(dim=1)


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, exp(log_var)) summed over the last dim: (..., D) -> (...)."""
    return -0.5 * (math.log(2 * math.pi) + log_var + (x - mean).pow(2) / log_var.exp()).sum(dim=-1)


def iwae_nll(log_weights: torch.Tensor) -> torch.Tensor:
    """-log (1/K sum_k w_k) from log w_k = log p(x, z_k) - log q(z_k | x): (K, B) -> (B,) nats."""
    return -(torch.logsumexp(log_weights, dim=0) - math.log(log_weights.shape[0]))


def reconstruction_error(reconstructions: torch.Tensor, images: torch.Tensor) -> float:
    """Mean squared error per pixel on [0, 1] images."""
    return float((reconstructions - images).pow(2).mean())


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to two feature sets.

    Tr((S_a S_b)^(1/2)) is computed as the sum of square roots of the eigenvalues of S_a^(1/2) S_b S_a^(1/2),
    a symmetric PSD matrix with the same spectrum, which avoids the complex sqrtm of a non-symmetric product.
    """
    a, b = features_a.double().cpu().numpy(), features_b.double().cpu().numpy()
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def kernel_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """KID (Binkowski et al. 2018): the unbiased MMD^2 between two feature sets under the cubic polynomial kernel
    k(x, y) = (x.y / d + 1)^3, over all pairs. Unbiased at any sample count (FID is not), so it can be negative."""
    a, b = features_a.double().cpu(), features_b.double().cpu()
    m, n, dimension = len(a), len(b), a.shape[1]

    def kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x @ y.T / dimension + 1.0) ** 3

    within_a, within_b = kernel(a, a), kernel(b, b)
    return float((within_a.sum() - within_a.diagonal().sum()) / (m * (m - 1))
                 + (within_b.sum() - within_b.diagonal().sum()) / (n * (n - 1)) - 2 * kernel(a, b).mean())


def inception_score(probabilities: torch.Tensor) -> float:
    """exp(E_x KL(p(y|x) || p(y))): from 1 (every sample the same vague class) to the class count."""
    probabilities = probabilities.double().clamp_min(1e-12)
    marginal = probabilities.mean(0, keepdim=True)
    kl = (probabilities * (probabilities.log() - marginal.log())).sum(1)
    return float(kl.mean().exp())


def class_figures(probabilities: torch.Tensor) -> dict[str, float]:
    """Mean classifier confidence (max probability) and the smallest share of samples any class receives."""
    counts = torch.bincount(probabilities.argmax(1), minlength=probabilities.shape[1]).double()
    return {"mean_confidence": float(probabilities.max(1).values.mean()),
            "min_class_share": float(counts.min() / counts.sum())}


def sample_figures(classifier: torch.nn.Module, samples: torch.Tensor, real: torch.Tensor,
                   requested_labels: torch.Tensor | None = None) -> dict[str, float]:
    """FID against `real`, IS, confidence and class coverage of `samples` (all in [0, 1]), with the counts;
    with `requested_labels` (the classes a conditional model was asked for), the conditional accuracy: how
    often the classifier's verdict is the requested class."""
    real_features, _ = classifier.predict(real)
    features, probabilities = classifier.predict(samples)
    figures = {"fid": frechet_distance(features, real_features), "inception_score": inception_score(probabilities),
               **class_figures(probabilities), "fid_samples": float(len(samples)), "fid_reference": float(len(real))}
    if requested_labels is not None:
        figures["conditional_accuracy"] = float((probabilities.argmax(1) == requested_labels).float().mean())
    return figures
