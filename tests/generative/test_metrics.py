"""Metrics against hand-computed values: KL, FID, Inception Score, class coverage, IWAE vs ELBO."""

import math

import torch
from gymforge.generative.metrics import (
    bernoulli_log_likelihood,
    class_figures,
    frechet_distance,
    gaussian_kl,
    inception_score,
    iwae_nll,
    kernel_distance,
)


def test_gaussian_kl_matches_the_closed_form_by_hand():
    mean, log_var = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(2.0)]])
    # dim 1: 0.5 * (1 + 1 - 1 - 0) = 0.5; dim 2: 0.5 * (0 + 2 - 1 - ln 2)
    expected = 0.5 + 0.5 * (1.0 - math.log(2.0))
    assert torch.allclose(gaussian_kl(mean, log_var), torch.tensor([expected]))


def test_bernoulli_log_likelihood_is_summed_over_pixels_in_nats():
    images = torch.tensor([[[[1.0, 0.0]]]])  # (1, 1, 1, 2)
    logits = torch.zeros_like(images)  # p = 0.5 per pixel: ln 2 nats each
    assert torch.allclose(bernoulli_log_likelihood(logits, images), torch.tensor([-2 * math.log(2.0)]))


def test_iwae_of_equal_weights_is_their_value_and_never_above_their_mean():
    log_weights = torch.full((5, 3), -7.0)
    assert torch.allclose(iwae_nll(log_weights), torch.full((3,), 7.0))
    log_weights = torch.randn(8, 4)
    assert torch.all(iwae_nll(log_weights) <= -log_weights.mean(0) + 1e-6)  # Jensen


def test_frechet_distance_of_a_set_with_itself_is_zero_and_a_shift_costs_its_square():
    features = torch.randn(2000, 6, generator=torch.Generator().manual_seed(0))
    assert abs(frechet_distance(features, features)) < 1e-6
    shifted = features + torch.tensor([3.0, 0, 0, 0, 0, 4.0])
    assert abs(frechet_distance(features, shifted) - 25.0) < 1e-6


def test_frechet_distance_of_two_known_gaussians():
    generator = torch.Generator().manual_seed(1)
    a = torch.randn(200_000, 2, generator=generator)  # N(0, I)
    b = torch.randn(200_000, 2, generator=generator) * 2.0  # N(0, 4 I): 2 + 8 - 2 * 2 * 2 = 2
    assert abs(frechet_distance(a, b) - 2.0) < 0.1


def test_kernel_distance_is_the_unbiased_mmd_of_the_cubic_kernel_by_hand():
    ones, zeros = torch.ones(2, 1), torch.zeros(2, 1)
    # k(1, 1) = (1 + 1)^3 = 8, k(0, 0) = k(1, 0) = 1: off-diagonal means 8 and 1, cross mean 1 -> 8 + 1 - 2
    assert kernel_distance(ones, zeros) == 7.0
    assert kernel_distance(zeros, zeros) == 0.0


def test_inception_score_and_class_figures():
    confident = torch.eye(4).repeat(5, 1)  # every class, each sample certain
    assert abs(inception_score(confident) - 4.0) < 1e-6
    assert abs(inception_score(torch.full((10, 4), 0.25)) - 1.0) < 1e-9
    figures = class_figures(torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.5, 0.2, 0.3]]))
    assert abs(figures["mean_confidence"] - 0.675) < 1e-6 and figures["min_class_share"] == 0.0


def test_classifier_cache_key_follows_the_split_and_the_contents(tmp_path):
    """The judge is cached per key: another held-out fraction or other images must never reuse it."""
    import numpy as np
    from gymforge.generative.data import load_data
    from PIL import Image

    assert load_data("digits", 8).key == load_data("digits", 8).key
    assert load_data("digits", 8).key != load_data("digits", 8, holdout_fraction=0.2).key
    assert load_data("digits", 8).key != load_data("digits", 8, validation_fraction=0.2).key
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for index in range(6):
            image = Image.fromarray(np.full((8, 8), 30 * index + (label == "b"), np.uint8))
            image.save(tmp_path / label / f"{index}.png")
    before = load_data(str(tmp_path), 8).key
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(tmp_path / "a" / "0.png")  # same path, new contents
    assert load_data(str(tmp_path), 8).key != before


def test_a_corrupt_classifier_cache_is_retrained_not_fatal(monkeypatch, tmp_path):
    from gymforge.generative import classifier as module
    from gymforge.generative.data import load_data

    monkeypatch.setenv("GYMFORGE_CACHE", str(tmp_path))
    data = load_data("digits", 8)
    path = tmp_path / "classifiers" / f"{data.key}-v{module.VERSION}.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage, not a checkpoint")
    quick = module.train_classifier
    monkeypatch.setattr(module, "train_classifier", lambda data: quick(data, epochs=1))
    model, trained = module.get_classifier(data)
    assert model is not None and model(data.test[:3]).shape == (3, 10)
    assert trained["judge/source"] == "trained" and trained["judge/cache"] == str(path)
    reloaded, loaded = module.get_classifier(data)  # now read back from the rewritten cache
    assert torch.equal(reloaded(data.test[:3]), model(data.test[:3]))
    assert loaded["judge/source"] == "loaded" and loaded["judge/test_accuracy"] == trained["judge/test_accuracy"]
