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
def test_dcgan_preset_meets_the_issue_bar_at_its_last_checkpoint(tmp_path):
    """The digits preset as shipped (about 3 CPU minutes); the last evaluation, not a lucky best one."""
    config = api.make_config("dcgan", {"data": "digits", "eval_every": 0})
    run = api.train("dcgan", config, logdir=tmp_path, name="dcgan", progress_bar=False)
    figures = run.read_summary()["last_eval"]
    assert figures["mean_confidence"] >= 0.8 and figures["min_class_share"] >= 0.03, figures
    assert figures["fid"] < 45, figures


@pytest.mark.slow
def test_wgan_gp_preset_meets_the_issue_bar(tmp_path):
    """The digits preset as shipped (about 4.5 CPU minutes): the issue's bar, not a lowered one."""
    config = api.make_config("wgan-gp", {"data": "digits", "eval_every": 0})
    run = api.train("wgan-gp", config, logdir=tmp_path, name="wgan-gp", progress_bar=False)
    figures = run.read_summary()["last_eval"]
    assert figures["mean_confidence"] >= 0.8 and figures["min_class_share"] >= 0.03, figures
    assert figures["fid"] < 35, figures
