"""The evaluation protocol: a likelihood that is one, FID and judge figures on images no model trained on,
honest conditional figures, and selection (validation) apart from reporting (test)."""

import math

import pytest
import torch
from gymforge.generative.classifier import train_classifier
from gymforge.generative.data import load_data
from gymforge.generative.gan import DCGAN, GANConfig
from gymforge.generative.metrics import frechet_distance
from gymforge.generative.vae import VAE, VAEConfig, discretized_logistic_log_likelihood, quantize


@pytest.fixture(scope="module")
def trained_vae():
    torch.manual_seed(0)
    learner = VAE(VAEConfig(batch_size=128, learning_rate=2e-3, iwae_samples=200, eval_samples=100))
    untrained = learner.evaluate("test")
    for _ in range(150):
        learner.train_step()
    return learner, untrained


def test_the_splits_are_disjoint_and_fixed():
    data = load_data("digits", 8)
    rows = {name: {tuple(image.flatten().tolist()) for image in images}
            for name, images in (("train", data.train), ("validation", data.validation), ("test", data.test))}
    assert len(data.train) + len(data.validation) + len(data.test) == 1797
    assert len(data.validation) >= 150 and len(data.test) == 180
    # the digits set holds a few exact duplicates, so compare by count rather than demand empty overlaps
    assert len(rows["validation"] & rows["train"]) <= 3 and len(rows["test"] & rows["train"]) <= 3
    assert torch.equal(load_data("digits", 8).validation, data.validation)


def test_binarized_vae_reports_a_held_out_likelihood_bound_in_nats(trained_vae):
    learner, untrained = trained_vae
    figures = learner.evaluate("test")
    held_out = learner.evaluation_images("test")
    assert set(torch.unique(held_out).tolist()) == {0.0, 1.0}  # binarized ...
    assert torch.equal(held_out, learner.evaluation_images("test"))  # ... once, with a fixed seed
    assert figures["iwae_samples"] == 200 and figures["likelihood_images"] == len(learner.data.test)
    assert figures["iwae_nll"] <= figures["neg_elbo"], figures
    # an untrained decoder pays about ln 2 per pixel (177 nats at 16x16); 150 batches learn far better
    assert untrained["neg_elbo"] > 150 and figures["neg_elbo"] < untrained["neg_elbo"] - 40, (figures, untrained)
    # fresh draws on every test evaluation: two runs agree within their stated Monte Carlo error
    again = learner.evaluate("test")
    for key in ("neg_elbo", "iwae_nll"):
        error = math.hypot(figures[f"{key}_mc_stderr"], again[f"{key}_mc_stderr"])
        assert 0 < error < 0.5 and abs(figures[key] - again[key]) <= 4 * error, (key, figures, again)
        assert figures[key] != again[key]


def test_training_batches_are_binarized_afresh_each_time():
    learner = VAE(VAEConfig(batch_size=16))
    images = learner.train_images[:16]
    first = learner.likelihood_targets(images, learner.binarize_generator)
    second = learner.likelihood_targets(images, learner.binarize_generator)
    assert set(torch.unique(first).tolist()) == {0.0, 1.0} and not torch.equal(first, second)
    # the binarization is unbiased: its mean over many draws is the grey level (2000 draws: a standard error of
    # at most 0.011 per pixel, so 0.06 is over 5 of them for every one of the 4096 pixels)
    draws = torch.stack([learner.likelihood_targets(images, learner.binarize_generator) for _ in range(2000)])
    assert torch.allclose(draws.mean(0), images, atol=0.06)


def test_discretized_logistic_is_a_distribution_over_the_256_levels():
    levels = torch.arange(256.0).view(256, 1, 1, 1) / 255  # every value one pixel can take
    for mean_logit, log_scale in ((0.0, -3.0), (2.5, -5.0), (-1.0, 0.5), (0.3, -7.5)):
        output = torch.tensor([mean_logit, log_scale]).view(1, 2, 1, 1).expand(256, -1, -1, -1)
        total = discretized_logistic_log_likelihood(output, levels).exp().sum()
        assert abs(float(total) - 1.0) < 1e-3, (mean_logit, log_scale, float(total))
    assert torch.equal(quantize(torch.tensor([0.0, 0.5, 1.0])), torch.tensor([0.0, 128 / 255, 1.0]))


def test_logistic_vae_reports_bits_per_dimension_under_its_own_name():
    learner = VAE(VAEConfig(batch_size=64, likelihood="logistic", iwae_samples=20, eval_samples=50))
    for _ in range(5):
        learner.train_step()
    figures = learner.evaluate("validation")
    assert learner.score_key == "neg_elbo_bpd_logistic" and "neg_elbo" not in figures
    assert figures["iwae_bpd_logistic"] <= figures["neg_elbo_bpd_logistic"] < 9.0, figures  # < 8 bits + slack
    assert learner.decode(torch.zeros(2, learner.latent_dim)).shape == (2, 1, 16, 16)


def class_matched(labels: torch.Tensor, pool_labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Indices into the pool of a random set with exactly `labels`' class counts."""
    parts = []
    for label in range(int(labels.max()) + 1):
        candidates = (pool_labels == label).nonzero().flatten()
        count = int((labels == label).sum())
        parts.append(candidates[torch.randperm(len(candidates), generator=generator)[:count]])
    return torch.cat(parts)


def test_copies_of_training_images_do_not_score_better_than_unseen_real_images():
    """A generator that memorised its training set must not beat real images nobody trained on.

    Copies of training images and the unseen validation images are scored against the held-out test split, at
    the same count (162) and the same class mix. At that count FID swings with which images are drawn (one
    set of 162 differs from another by several points, and a different class mix by tens), so one set against
    one set decides nothing: the copies are 30 class-matched training sets, and the unseen images must score
    within 3 standard deviations of those sets' spread (about 1 in 700 to fail by chance if the judge treats
    the two alike). The copies' mean also has to stay clear of zero, which a reference that held the copied
    images themselves would give."""
    learner = DCGAN(GANConfig(base_channels=8))
    data, classifier = learner.data, learner.classifier
    reference, _ = learner.split_images("test")
    reference_features, _ = classifier.predict(reference)
    train_features, _ = classifier.predict(data.train)
    unseen_features, _ = classifier.predict(data.validation)
    generator = torch.Generator().manual_seed(0)
    copies = torch.tensor([frechet_distance(train_features[class_matched(data.validation_labels,
                                                                         data.train_labels, generator)],
                                            reference_features) for _ in range(30)])
    unseen = frechet_distance(unseen_features, reference_features)
    spread = float(copies.std())
    print(f"MARGIN copies {float(copies.mean()):.1f} +- {spread:.1f}, unseen {unseen:.1f}, "
          f"bar: unseen <= {float(copies.mean()) + 3 * spread:.1f}")
    assert 0 < spread < 15 and copies.mean() > 3 * spread, (copies, unseen)
    assert unseen <= copies.mean() + 3 * spread, (copies, unseen)
    # the floor beside every FID is the training images' own score at the sample count
    figures = learner.evaluate("test")
    assert figures["fid_floor"] == learner.fid_floor("test", 1000) and figures["fid_reference"] == len(reference)


def test_the_judge_is_the_same_whatever_the_callers_thread_count():
    """Two threads sum convolution gradients in another order; a judge trained on them scored FIDs 2 points
    apart from the one-thread judge, so a reported figure depended on the caller's thread count."""
    data = load_data("digits", 16)
    threads = torch.get_num_threads()
    try:
        judges = []
        for count in (1, 2):
            torch.set_num_threads(count)
            judges.append(train_classifier(data, epochs=1).state_dict())
            assert torch.get_num_threads() == count  # the caller's count comes back
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(judges[0][key], judges[1][key]) for key in judges[0])


def test_validation_repeats_its_samples_and_test_draws_fresh_ones_on_other_images():
    learner = DCGAN(GANConfig(base_channels=8, eval_samples=200))
    learner.train_step()
    one, two = learner.evaluate("validation"), learner.evaluate("validation")
    assert one == two and one["fid_reference"] == len(learner.data.validation)
    test_one, test_two = learner.evaluate("test"), learner.evaluate("test")
    assert test_one["fid"] != test_two["fid"] and test_one["fid_reference"] == len(learner.data.test)
    with pytest.raises(Exception, match="validation or test"):
        learner.evaluate("train")


def test_conditional_labels_come_from_the_class_prior_and_accuracy_is_reported():
    from gymforge.generative.gan import ConditionalGAN, ConditionalGANConfig

    learner = ConditionalGAN(ConditionalGANConfig(base_channels=8, eval_samples=300))
    labels = learner.prior_labels(20_000, seed=1)
    prior = torch.bincount(learner.data.train_labels, minlength=10).double() / len(learner.data.train_labels)
    assert torch.allclose(torch.bincount(labels, minlength=10).double() / len(labels), prior, atol=0.01)
    assert not torch.equal(labels[:20], torch.arange(20) % 10)  # drawn, not cycled
    figures = learner.evaluate("validation")
    # an untrained generator ignores its labels: the judge agrees with the request about as often as chance
    assert 0.0 <= figures["conditional_accuracy"] < 0.35, figures


def test_the_judge_is_an_explicit_logged_step_and_evaluate_alone_still_gets_it(tmp_path, capsys):
    """The Trainer loads or trains the judge before the first step, logs it under judge/ and says which it did
    in one stderr line; a resumed run does not prepare again; evaluate() on a fresh learner prepares itself."""
    from gymforge.app import api
    from tests.helpers import event_tags, scalar_steps

    options = dict(data="digits", steps=64, base_channels=8, eval_every=0, checkpoint_every=64, eval_samples=50)
    run = api.train("dcgan", api.make_config("dcgan", options), name="judged", logdir=tmp_path, progress_bar=False)
    lines = [line for line in capsys.readouterr().err.splitlines() if "judge/" in line]
    assert len(lines) == 1 and ("judge/source loaded" in lines[0] or "judge/source trained" in lines[0])
    accuracy = float(lines[0].split("judge/test_accuracy ")[1].split(",")[0])
    assert "judge/cache " in lines[0] and 0.9 <= accuracy <= 1.0  # held-out digits
    assert scalar_steps(run.path, "judge/test_accuracy") == [0]
    assert {"judge/source", "judge/cache"}.isdisjoint(event_tags(run.path)["scalars"])  # strings: printed only
    api.resume(run.path, progress_bar=False, steps=128)
    assert "judge/" not in capsys.readouterr().err
    assert scalar_steps(run.path, "judge/test_accuracy") == [0]
    learner = DCGAN(GANConfig(base_channels=8, eval_samples=50))
    assert learner._judge is None
    assert learner.evaluate()["judge_test_accuracy"] == learner.prepare()["judge/test_accuracy"]
