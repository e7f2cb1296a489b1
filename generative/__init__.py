"""Generative models on gymforge's one Trainer: autoencoders, VAEs, GANs (MLP, DCGAN, conditional, WGAN-GP)
and CycleGAN, with their datasets, metrics and the judge classifier."""

from gymforge.generative.autoencoder import AEConfig, Autoencoder
from gymforge.generative.config import GenerativeConfig
from gymforge.generative.cyclegan import CycleGAN, CycleGANConfig
from gymforge.generative.data import ImageData, load_data
from gymforge.generative.gan import DCGAN, GAN, ConditionalGAN, ConditionalGANConfig, GANConfig, MLPGANConfig
from gymforge.generative.metrics import frechet_distance, inception_score, iwae_nll
from gymforge.generative.vae import VAE, VAEConfig
from gymforge.generative.wgan_gp import WGANGP, WGANGPConfig, gradient_penalty

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
