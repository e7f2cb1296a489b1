"""Every model's train_step runs, its losses move the right way on a tiny budget, and it round-trips."""

import copy

import pytest
import torch
from gymforge.generative.gan import DCGAN, GAN, ConditionalGAN, ConditionalGANConfig, GANConfig, MLPGANConfig
from gymforge.generative.vae import VAE, VAEConfig

from gymforge.engine.errors import ConfigError, UserError


def own_versus_others(outputs, inputs):
    """Mean distance of output k to input k over the mean distance to the other inputs (1: no relation)."""
    distances = torch.cdist(outputs.flatten(1), inputs.flatten(1))  # (N, N)
    own = distances.diagonal().mean()
    return float(own / ((distances.sum() - distances.diagonal().sum()) / (len(inputs) * (len(inputs) - 1))))


def mean_of(learner, key, steps):
    return sum(learner.train_step()[key] for _ in range(steps)) / steps


@pytest.mark.parametrize("conditional", [False, True])
def test_vae_loss_falls_and_samples_are_reproducible(conditional):
    torch.manual_seed(0)
    learner = VAE(VAEConfig(batch_size=64, conditional=conditional))
    first = mean_of(learner, "train/loss", 5)
    for _ in range(40):
        learner.train_step()
    assert mean_of(learner, "train/loss", 5) < first - 20  # nats per image
    assert learner.progress == 50 * 64
    one = learner.sample_images(8, seed=3, label=2 if conditional else None)
    assert one.shape == (8, 1, 16, 16) and torch.equal(one, learner.sample_images(8, 3, 2 if conditional else None))
    assert not torch.equal(one, learner.sample_images(8, 4, 2 if conditional else None))


def test_vae_state_round_trip_gives_identical_samples_and_continues_the_same_batches():
    learner = VAE(VAEConfig(batch_size=32))
    for _ in range(3):
        learner.train_step()
    state = learner.state_dict()
    copy = VAE(VAEConfig(batch_size=32, seed=5))
    copy.load_state_dict(state)
    assert torch.equal(learner.sample_images(4, 0), copy.sample_images(4, 0))
    assert torch.equal(learner.batches.next_indices(), copy.batches.next_indices())


@pytest.mark.parametrize("learner_class, config_class", [(GAN, MLPGANConfig), (DCGAN, GANConfig),
                                                         (ConditionalGAN, ConditionalGANConfig)])
def test_gan_discriminator_learns_to_tell_real_from_fake(learner_class, config_class):
    torch.manual_seed(0)
    learner = learner_class(config_class(batch_size=64, base_channels=16))
    first = learner.train_step()
    for _ in range(25):
        metrics = learner.train_step()
    assert metrics["train/loss_discriminator"] < first["train/loss_discriminator"]
    assert metrics["train/d_real"] > metrics["train/d_fake"]
    grid = learner.sample_grid(16, seed=1)
    assert grid.dtype.name == "uint8" and grid.ndim == 3
    assert (grid == learner.sample_grid(16, seed=1)).all()


def test_dcgan_weights_start_from_normal_0_02_and_adam_has_dcgan_settings():
    learner = DCGAN(GANConfig(base_channels=16))
    weights = torch.cat([m.weight.detach().flatten() for m in learner.generator.modules()
                         if isinstance(m, (torch.nn.Linear, torch.nn.ConvTranspose2d))])
    assert abs(float(weights.std()) - 0.02) < 0.002 and abs(float(weights.mean())) < 0.002
    group = learner.optimizers["critic"].param_groups[0]
    assert group["lr"] == 2e-4 and group["betas"] == (0.5, 0.999)


def test_conditional_models_refuse_unlabelled_data_and_unconditional_ones_refuse_labels(tmp_path):
    import numpy as np
    from gymforge.envs import save_frames

    frames = save_frames(tmp_path / "f.npz", np.zeros((20, 8, 8, 1), np.uint8))
    with pytest.raises(ConfigError, match="needs labelled images"):
        ConditionalGAN(ConditionalGANConfig(data=str(frames)))
    with pytest.raises(UserError, match="--label needs a conditional model"):
        DCGAN(GANConfig(base_channels=8)).sample_grid(4, 0, label=1)


@pytest.mark.parametrize("architecture, denoise", [("dense", 0.0), ("conv", 0.3)])
def test_autoencoder_reconstruction_error_falls(architecture, denoise):
    from gymforge.generative.autoencoder import AEConfig, Autoencoder

    torch.manual_seed(0)
    learner = Autoencoder(AEConfig(architecture=architecture, denoise_std=denoise, batch_size=64))
    before = learner.evaluate()
    for _ in range(150):
        learner.train_step()
    after = learner.evaluate()
    assert after["reconstruction_error"] < 0.7 * before["reconstruction_error"]
    if denoise:
        assert after["denoising_error"] < after["noisy_input_error"]  # it removes noise it never saw
    grid = learner.sample_grid(8, seed=0, reconstruct=True)
    assert (grid == learner.sample_grid(8, seed=0, reconstruct=True)).all()
    # each reconstruction is nearer its own input than the other inputs are (an untrained net's are not)
    pairs = learner.reconstruction_pairs(16, seed=0)
    assert own_versus_others(pairs[1::2], pairs[0::2]) < 0.7
    # a walk between two held-out images' codes starts and ends at (the reconstructions of) those images
    walk = learner.interpolation_images(32, seed=0).view(4, 8, -1)  # 4 rows of 8
    images, _ = learner.held_out(8, seed=0)
    assert own_versus_others(torch.cat([walk[:, 0], walk[:, -1]]), images) < 0.7
    with pytest.raises(UserError, match="no prior"):
        learner.sample_grid(8, seed=0)


@pytest.mark.parametrize("learner_class, options", [(DCGAN, {"critic_shift": 2}), (GAN, {"critic_batch_norm": False})])
def test_gan_resumed_from_its_state_continues_exactly_like_the_uninterrupted_run(learner_class, options):
    """The latent-noise and shift streams travel in the checkpoint (they once restarted from the seed)."""
    config = GANConfig(batch_size=16, base_channels=8, **options)
    learner = learner_class(config)
    for _ in range(3):
        learner.train_step()
    resumed = learner_class(config)
    resumed.load_state_dict(copy.deepcopy(learner.state_dict()))  # a copy, as a checkpoint file gives
    for _ in range(2):
        assert learner.train_step() == resumed.train_step()


def test_critic_shift_moves_real_and_generated_images_alike_and_passes_gradients():
    learner = DCGAN(GANConfig(batch_size=16, base_channels=8, critic_shift=2))
    images = torch.rand(8, 1, 16, 16, requires_grad=True)
    shifted = learner.critic_view(images * 2 - 1)
    assert shifted.shape == images.shape and not torch.equal(shifted, images * 2 - 1)
    shifted.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0  # the generator learns through the shift
    assert torch.equal(DCGAN(GANConfig(batch_size=16, base_channels=8)).critic_view(images), images)
    with pytest.raises(ConfigError, match="--critic-shift"):
        GANConfig(critic_shift=-1)


def test_conditional_mlp_gan_feeds_the_label_to_both_networks():
    """`gan --conditional` once crashed: the MLP generator had no inputs for the label."""
    learner = GAN(MLPGANConfig(batch_size=32, base_channels=8, conditional=True))
    metrics = learner.train_step()
    assert metrics["train/d_real"] > 0
    latent = torch.randn(1, learner.latent_dim).repeat(10, 1)  # one latent, every class
    with learner.evaluating():
        images = learner.decode(latent, torch.arange(10))
    assert (images[1:] - images[:1]).abs().amax() > 1e-6  # the label changes the image (N(0, 0.02) init: small)
    assert learner.critic.body.input_dim == 16 * 16 + 10
    image = torch.rand(1, 1, 16, 16).repeat(2, 1, 1, 1)
    one_hot = torch.eye(10)[[2, 7]]
    scores = learner.critic(image, one_hot)
    assert scores[0] != scores[1]  # the discriminator sees the label too
    assert learner.sample_images(4, seed=0, label=3).shape == (4, 1, 16, 16)


@pytest.mark.parametrize("make, fragment", [
    (lambda: MLPGANConfig(critic_batch_norm=True), "--critic-batch-norm"),
    (lambda: GAN(GANConfig(base_channels=8)), "no batch norm"),
])
def test_gan_refuses_batch_norm_its_discriminator_does_not_have(make, fragment):
    with pytest.raises(ConfigError, match=fragment):
        make()


@pytest.mark.parametrize("options, fragment", [({"critic_shift": 2}, "--critic-shift"),
                                               ({"label_smoothing": 0.1}, "--label-smoothing")])
def test_wgan_gp_refuses_gan_options_it_would_ignore(options, fragment):
    from gymforge.generative.wgan_gp import WGANGPConfig

    with pytest.raises(ConfigError, match=fragment):
        WGANGPConfig(**options)
