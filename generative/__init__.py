"""Generative models on gymforge's one Trainer: autoencoders, VAEs, GANs (MLP, DCGAN, conditional, WGAN-GP)
and CycleGAN, with their datasets, metrics and the judge classifier."""

from generative.autoencoder import AEConfig, Autoencoder
from generative.config import GenerativeConfig
from generative.cyclegan import CycleGAN, CycleGANConfig
from generative.data import ImageData, load_data
from generative.gan import DCGAN, GAN, ConditionalGAN, ConditionalGANConfig, GANConfig, MLPGANConfig
from generative.metrics import frechet_distance, inception_score, iwae_nll
from generative.vae import VAE, VAEConfig
from generative.wgan_gp import WGANGP, WGANGPConfig, gradient_penalty

__all__ = [
    "DCGAN",
    "GAN",
    "VAE",
    "WGANGP",
    "AEConfig",
    "Autoencoder",
    "ConditionalGAN",
    "ConditionalGANConfig",
    "CycleGAN",
    "CycleGANConfig",
    "GANConfig",
    "GenerativeConfig",
    "ImageData",
    "MLPGANConfig",
    "VAEConfig",
    "WGANGPConfig",
    "frechet_distance",
    "gradient_penalty",
    "inception_score",
    "iwae_nll",
    "load_data",
]
