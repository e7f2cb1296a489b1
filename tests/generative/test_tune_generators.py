"""gymforge tune on a generator: trials are scored by its held-out metric (here the VAE's negative ELBO, minimized)."""

import numpy as np
import pytest

from gymforge.app.cli import main
from gymforge.engine.run import Run

optuna = pytest.importorskip("optuna")


def test_a_generator_tunes_against_its_held_out_metric(tmp_path, capsys):
    assert main(["tune", "vae", "--data", "digits", "--trials", "2", "--steps", "512", "--evaluations", "2",
                 "--set", "iwae_samples=2", "--set", "batch_size=64", "--logdir", str(tmp_path), "--name", "v"]) == 0
    captured = capsys.readouterr()
    assert "objective final neg_elbo (minimize)" in captured.err
    study = optuna.load_study(study_name="v", storage=f"sqlite:///{tmp_path / 'tune-v' / 'study.db'}")
    assert study.direction.name == "MINIMIZE" and len(study.trials) == 2
    values = [trial.value for trial in study.trials]
    assert all(np.isfinite(values))
    summaries = [Run(tmp_path / "tune-v" / f"trial-000{n}-seed-0", "vae").read_summary() for n in (0, 1)]
    assert [s["last_eval"]["neg_elbo"] for s in summaries] == pytest.approx(values)


def test_a_vae_with_the_logistic_likelihood_tunes_against_its_bits_per_dimension(tmp_path, capsys):
    """The score key depends on the config (likelihood=logistic scores neg_elbo_bpd_logistic), so tune reads it
    from the learner, not the class."""
    assert main(["tune", "vae", "--data", "digits", "--trials", "1", "--steps", "128", "--evaluations", "1",
                 "--set", "likelihood=logistic", "--set", "iwae_samples=2", "--set", "batch_size=64",
                 "--set", "eval_samples=10", "--logdir", str(tmp_path), "--name", "v"]) == 0
    assert "objective final neg_elbo_bpd_logistic (minimize)" in capsys.readouterr().err
    study = optuna.load_study(study_name="v", storage=f"sqlite:///{tmp_path / 'tune-v' / 'study.db'}")
    summary = Run(tmp_path / "tune-v" / "trial-0000-seed-0", "vae").read_summary()
    assert study.trials[0].state.name == "COMPLETE"
    assert study.trials[0].value == pytest.approx(summary["last_eval"]["neg_elbo_bpd_logistic"])
