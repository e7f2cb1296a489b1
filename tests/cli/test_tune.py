"""gymforge tune: trials as run folders, pruning, the end table, --write-preset, resuming a killed tune from its
storage, and the mistakes that get one line. Fast tests tune tabular Q-learning (a search space given with
--space) on FrozenLake; the slow test tunes PPO on CartPole-v1 and checks the winner on held-out seeds."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from gymforge.app import api
from gymforge.app.cli import main
from gymforge.app.tune import Objective, curve_area, print_table
from gymforge.engine.config import read_config_file
from gymforge.engine.run import Run
from tests.helpers import ROOT, shifted_seed

optuna = pytest.importorskip("optuna")

SPACE = {"learning_rate": {"float": [0.01, 0.5], "log": True}, "gamma": [0.9, 0.95, 0.99],
         "exploration_fraction": {"float": [0.1, 0.9]}}


@pytest.fixture()
def space_file(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(SPACE))
    return path


def tune_args(space_file, tmp_path, *extra):
    return ["tune", "qlearning", "--env", "FrozenLake-v1", "--space", str(space_file), "--logdir", str(tmp_path),
            "--name", "q", "--set", "eval_episodes=20", "--set", "log_every=1000", *extra]


def study_of(tmp_path):
    return optuna.load_study(study_name="q", storage=f"sqlite:///{tmp_path / 'tune-q' / 'study.db'}")


def test_tune_runs_trials_as_run_folders_prints_the_table_and_writes_a_preset_train_reads(
        space_file, tmp_path, capsys):
    preset = tmp_path / "best.yaml"
    assert main(tune_args(space_file, tmp_path, "--trials", "5", "--steps", "4000", "--seeds", "2", "--evaluations",
                          "4", "--pruner", "halving", "--write-preset", str(preset))) == 0
    out = capsys.readouterr().out
    study = study_of(tmp_path)
    states = [trial.state.name for trial in study.trials]
    assert len(states) == 5 and "RUNNING" not in states and "FAIL" not in states
    assert "trial  state" in out and f"{states.count('COMPLETE')} complete, {states.count('PRUNED')} pruned" in out
    assert study.trials[0].user_attrs["note"] == "starting config"  # trial 0: the config's own values
    folders = sorted(p.name for p in (tmp_path / "tune-q").iterdir() if (p / "config.yaml").is_file())
    assert {"trial-0000-seed-0", "trial-0000-seed-1"} <= set(folders)
    for folder in folders:  # normal run folders: gymforge evaluate / runs work on them
        assert Run.open(tmp_path / "tune-q" / folder)[0].algo == "qlearning"
    best = study.best_trial
    assert best.value == pytest.approx(np.mean(best.user_attrs["seed_values"]))
    algo, values = read_config_file(preset)
    assert algo == "qlearning" and values["learning_rate"] == pytest.approx(best.params["learning_rate"])
    assert main(["train", "--config", str(preset), "--steps", "1000", "--logdir", str(tmp_path), "--name", "again"]) == 0
    assert Run.open(tmp_path / "again")[1]["gamma"] == best.params["gamma"]


def test_a_pruned_trial_stops_its_run_and_shows_in_the_table_as_pruned(space_file, tmp_path, capsys):
    class AlwaysPrune(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            return True

    study = optuna.create_study(direction="maximize", pruner=AlwaysPrune())
    objective = Objective("qlearning", {"env": "FrozenLake-v1", "steps": 8_000, "eval_every": 2_000,
                                        "eval_episodes": 5, "log_every": 1000}, "auto", SPACE, [0, 1], "final",
                          tmp_path, "mean_return", evaluations=4)
    study.optimize(objective, n_trials=1)
    assert study.trials[0].state.name == "PRUNED"
    summary = Run(tmp_path / "trial-0000-seed-0", "qlearning").read_summary()
    assert summary["status"] == "stopped" and summary["progress"] == 2_000
    assert not (tmp_path / "trial-0000-seed-1").exists()  # a pruned trial trains no further seeds
    print_table(study, 10, "mean_return", "final")
    row = [line for line in capsys.readouterr().out.splitlines() if line.lstrip().startswith("0 ")]
    report = study.trials[0].intermediate_values[0]
    assert row and "pruned" in row[0] and f"({report:.4g})" in row[0] and "2000" in row[0], row


def test_a_trial_that_reaches_stop_at_is_complete_with_its_score_and_write_preset_works(space_file, tmp_path,
                                                                                          capsys):
    """--stop-at 0 is reached by FrozenLake's first evaluation (returns are >= 0): each trial stops there, as the
    Trainer's early stop, not the pruner's, so it is a COMPLETE trial whose value is that evaluation."""
    preset = tmp_path / "best.yaml"
    assert main(tune_args(space_file, tmp_path, "--trials", "2", "--steps", "4000", "--evaluations", "4",
                          "--set", "stop_at=0", "--pruner", "none", "--write-preset", str(preset))) == 0
    out = capsys.readouterr().out
    study = study_of(tmp_path)
    assert [trial.state.name for trial in study.trials] == ["COMPLETE", "COMPLETE"]
    assert "2 complete, 0 pruned" in out
    for trial in study.trials:
        summary = Run(tmp_path / "tune-q" / f"trial-{trial.number:04d}-seed-0", "qlearning").read_summary()
        assert summary["status"] == "stopped" and summary["progress"] == 1_000  # stopped at the first evaluation
        assert trial.value == pytest.approx(summary["last_eval"]["mean_return"])
    assert read_config_file(preset)[0] == "qlearning"


def test_the_objective_is_the_final_evaluation_or_the_area_under_the_curve():
    assert curve_area([(0, 0.0), (10, 1.0), (20, 1.0)]) == pytest.approx(0.75)  # (0.5 * 10 + 1 * 10) / 20
    assert curve_area([(5, 3.0)]) == 3.0


def test_a_killed_tune_resumes_from_its_storage(space_file, tmp_path, capsys):
    command = [sys.executable, "-m", "gymforge", *tune_args(space_file, tmp_path, "--trials", "4", "--steps", "20000",
                                                              "--pruner", "none")]
    process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    second = tmp_path / "tune-q" / "trial-0001-seed-0"
    deadline = time.time() + 240
    # trial 1's run folder exists: it is running. (Its summary's progress changes only at a checkpoint, which for a
    # short Q-learning trial is its end: waiting for it raced trial 1's completion under load.)
    while not (second / "config.yaml").exists():
        assert process.poll() is None, process.stderr.read()
        assert time.time() < deadline, "trial 1 never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = study_of(tmp_path)
    assert [trial.state.name for trial in before.trials] == ["COMPLETE", "RUNNING"]
    first_value = before.trials[0].value

    assert main(tune_args(space_file, tmp_path, "--trials", "4", "--steps", "20000", "--pruner", "none")) == 0
    assert "1 trials done, 1 left running by a killed tune marked failed, 3 to run" in capsys.readouterr().err
    after = study_of(tmp_path)
    assert [trial.state.name for trial in after.trials] == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE", "COMPLETE"]
    assert after.trials[0].value == first_value
    assert main(tune_args(space_file, tmp_path, "--trials", "4", "--steps", "20000", "--pruner", "none")) == 0
    assert "4 trials done" in capsys.readouterr().err and len(study_of(tmp_path).trials) == 5  # nothing left to run


@pytest.mark.parametrize("args, fragment", [
    (["tune", "qlearning", "--env", "FrozenLake-v1"], "qlearning has no search space (agents/search/qlearning.yaml"),
    (["tune", "cyclegan"], "cyclegan has no search space"),
    (["tune", "ppo", "--data", "digits"], "ppo trains on --env, not --data"),
    (["tune", "ppo", "--trials", "0"], "--trials must be >= 1"),
    (["tune", "ppo", "--set", "gamma"], "--set takes KEY=VALUE"),
    (["tune", "ppo", "--set", "gamma=2"], "--gamma and --gae-lambda must be in [0, 1]"),
])
def test_tune_mistakes_get_one_clear_line(args, fragment, tmp_path, capsys):
    assert main([*args, "--logdir", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], lines


@pytest.mark.parametrize("space, fragment", [
    ({"learning_rate": {"float": [0.5, 0.1]}}, "learning_rate must be a list of choices"),
    ({"learning_rate": {"float": [0.0, 0.1], "log": True}}, "log: true needs low > 0"),
    ({"learning_rate": {"float": ["1e-4", 0.1]}}, "write 1.0e-4, not 1e-4"),
    ({"learning_rat": [0.1]}, "unknown option 'learning_rat' in the search space"),
])
def test_a_bad_search_space_gets_one_clear_line(space, fragment, tmp_path, capsys):
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(space))
    assert main(["tune", "qlearning", "--env", "FrozenLake-v1", "--space", str(path), "--logdir", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], lines


def test_resuming_a_study_with_other_settings_is_refused(space_file, tmp_path, capsys):
    assert main(tune_args(space_file, tmp_path, "--trials", "1", "--steps", "1000")) == 0
    capsys.readouterr()
    assert main(tune_args(space_file, tmp_path, "--trials", "2", "--steps", "2000")) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "was run with other settings (steps" in lines[0], lines


@pytest.mark.slow
def test_tuned_ppo_beats_the_defaults_on_held_out_seeds(tmp_path):
    """A small CartPole-v1 search (6 trials x 10k steps) from the config's defaults; its winner, retrained on 3
    seeds the search never used, has a mean final return at least the defaults' (about 1 CPU-minute)."""
    preset = tmp_path / "best.yaml"
    assert main(["tune", "ppo", "--env", "CartPole-v1", "--trials", "6", "--steps", "10000", "--seed",
                 str(shifted_seed(0)), "--set", "eval_episodes=5", "--logdir", str(tmp_path), "--name", "p",
                 "--write-preset", str(preset)]) == 0
    _, tuned = read_config_file(preset)
    returns = {"defaults": [], "tuned": []}
    for seed in (shifted_seed(100), shifted_seed(101), shifted_seed(102)):
        for key, values in (("defaults", {"env": "CartPole-v1", "steps": 10_000}), ("tuned", tuned)):
            config = api.make_config("ppo", {**values, "seed": seed, "eval_every": 10_000, "eval_episodes": 20},
                                     preset="none")
            run = api.train("ppo", config, name=f"{key}-{seed}", logdir=tmp_path / "held-out", progress_bar=False)
            returns[key].append(run.read_summary()["last_eval"]["mean_return"])
    print(f"MARGIN tune: tuned {np.mean(returns['tuned']):.1f} against defaults {np.mean(returns['defaults']):.1f}")
    assert np.mean(returns["tuned"]) >= np.mean(returns["defaults"]), returns
