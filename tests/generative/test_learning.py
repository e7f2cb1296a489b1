"""Learning checks on the bundled digits (slow: minutes of CPU): the samples are digits the judge
classifier recognises, spread over every class. The GAN checks train the shipped presets and hold them to
the issue's bar (confidence >= 0.8, every class >= 3%); the VAE check uses a smaller budget and lower bars."""

import pytest

from gymforge import api


@pytest.mark.slow
def test_vae_samples_are_recognisable_digits_of_every_class(tmp_path):
    config = api.make_config("vae", {"data": "digits", "steps": 400_000, "eval_every": 200_000, "seed": 1})
    run = api.train("vae", config, logdir=tmp_path, name="vae", progress_bar=False)
    figures = run.read_summary()["last_eval"]
    assert figures["mean_confidence"] >= 0.75 and figures["min_class_share"] >= 0.02, figures
    assert figures["iwae_nll"] <= figures["neg_elbo"] < 106, figures


@pytest.mark.slow
@pytest.mark.parametrize("algo, fid_below", [("dcgan", 45), ("wgan-gp", 35)])
def test_gan_preset_meets_the_issue_bar_at_its_last_checkpoint(algo, fid_below, tmp_path):
    """The digits presets as shipped (3-5 CPU minutes each), judged at the last evaluation, not a lucky best one."""
    config = api.make_config(algo, {"data": "digits", "eval_every": 0})
    run = api.train(algo, config, logdir=tmp_path, name=algo, progress_bar=False)
    figures = run.read_summary()["last_eval"]
    assert figures["mean_confidence"] >= 0.8 and figures["min_class_share"] >= 0.03, figures
    assert figures["fid"] < fid_below, figures
