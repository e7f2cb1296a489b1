"""Learning checks on the bundled digits (slow: minutes of CPU), judged on the held-out test split with fresh
samples by the classifier trained on the training split only. The GAN checks train the shipped presets and hold
them to the issue's bar (confidence >= 0.8, every class >= 3%) on 2 of 3 seeds; the VAE check uses a smaller
budget and lower bars; the conditional check asks `gymforge sample --label K` for every class. Seeds go
through shifted_seed, so GYMFORGE_TEST_SEED_SHIFT shows what another machine's paths would give."""

import pytest

from gymforge.app import api
from gymforge.app.cli import main
from tests.helpers import shifted_seed


def last_checkpoint_on_test(algo, options, tmp_path, name):
    config = api.make_config(algo, {"data": "digits", "eval_every": 0, **options})
    run = api.train(algo, config, logdir=tmp_path, name=name, progress_bar=False)
    return run, api.load_learner(run.path, "last").evaluate("test")


@pytest.mark.slow
def test_vae_likelihood_and_samples_on_held_out_digits(tmp_path):
    _, figures = last_checkpoint_on_test("vae", {"steps": 150_000, "seed": shifted_seed(1)}, tmp_path, "vae")
    # binarized 16x16 digits in nats per image: a coin flip per pixel is 177; 99.2 here at seed 1, 97.9 at 1M images
    print(f"MARGIN vae seed {shifted_seed(1)}: neg_elbo {figures['neg_elbo']:.2f}, bar < 105; confidence "
          f"{figures['mean_confidence']:.3f}, bar >= 0.75; smallest class {figures['min_class_share']:.3f}, bar >= 0.02")
    assert figures["iwae_nll"] <= figures["neg_elbo"] < 105, figures
    assert figures["mean_confidence"] >= 0.75 and figures["min_class_share"] >= 0.02, figures


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["dcgan", "wgan-gp"])
def test_gan_preset_meets_the_issue_bar_on_two_of_three_seeds(algo, tmp_path):
    """The digits presets as shipped (3-5 CPU minutes a seed), judged at the last checkpoint on the test split;
    stops as soon as two seeds pass (or two fail)."""
    passed, failed = [], []
    for base in range(3):
        _, figures = last_checkpoint_on_test(algo, {"seed": shifted_seed(base)}, tmp_path, f"{algo}-{base}")
        ok = (figures["mean_confidence"] >= 0.8 and figures["min_class_share"] >= 0.03
              and figures["fid"] < figures["fid_floor"] + 60)
        print(f"MARGIN {algo} seed {shifted_seed(base)}: confidence {figures['mean_confidence']:.3f}, bar >= 0.8; "
              f"smallest class {figures['min_class_share']:.3f}, bar >= 0.03; FID {figures['fid']:.1f}, "
              f"bar < {figures['fid_floor'] + 60:.1f}")
        (passed if ok else failed).append(figures)
        if len(passed) == 2 or len(failed) == 2:
            break
    assert len(passed) >= 2, failed


@pytest.mark.slow
def test_conditional_mlp_gan_draws_the_requested_class(tmp_path):
    """`gymforge train gan --conditional`, then `gymforge sample --label K` for every K, judged by the classifier."""
    from tests.generative.test_cli import read_grid

    run, figures = last_checkpoint_on_test("gan", {"conditional": True, "steps": 300_000, "seed": shifted_seed(0)},
                                           tmp_path, "cgan-mlp")
    print(f"MARGIN gan --conditional seed {shifted_seed(0)}: conditional accuracy "
          f"{figures['conditional_accuracy']:.3f}, bar >= 0.9")
    assert figures["conditional_accuracy"] >= 0.9, figures
    classifier = api.load_learner(run.path, "last").classifier
    correct = []
    for label in range(10):
        out = tmp_path / f"{label}.png"
        flags = ["--label", str(label), "--n", "25", "--seed", "3", "--out", str(out)]
        assert main(["sample", str(run.path), *flags]) == 0
        _, probabilities = classifier.predict(read_grid(out))
        correct.append(float((probabilities.argmax(1) == label).float().mean()))
    print(f"MARGIN sample --label K: mean {sum(correct) / 10:.3f}, bar >= 0.9; worst class {min(correct):.2f}, "
          f"bar >= 0.6")
    assert sum(correct) / 10 >= 0.9 and min(correct) >= 0.6, correct
