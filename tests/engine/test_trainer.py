"""The Trainer against a real learner (tabular Q-learning, fast) and a fake one for the NaN guard."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import pytest

from gymforge.app import api
from gymforge.engine.checkpoint import load_checkpoint
from gymforge.engine.config import TrainConfig
from gymforge.engine.errors import NonFiniteError
from gymforge.engine.run import Run
from gymforge.engine.trainer import Trainer
from tests.helpers import ROOT, event_tags, scalar_steps

FAST = {"env": "FrozenLake-v1", "steps": 10_000, "eval_every": 5_000, "checkpoint_every": 2_000,
        "eval_episodes": 20, "log_every": 1_000}


def test_run_folder_holds_config_events_checkpoints_and_summary(tmp_path):
    run = api.train("qlearning", name="a", logdir=tmp_path, progress_bar=False, **FAST)
    assert (run.path / "config.yaml").is_file()
    assert {p.name for p in run.checkpoints.iterdir()} == {"last.pt", "best.pt"}
    summary = run.read_summary()
    assert summary["status"] == "finished" and summary["progress"] == 10_000
    tags = event_tags(run.path)["scalars"]
    assert {"train/epsilon", "train/learning_rate", "rollout/ep_return", "eval/mean_return", "time/elapsed_s"} <= set(
        tags)
    assert scalar_steps(run.path, "train/epsilon") == list(range(1_000, 10_001, 1_000))
    assert scalar_steps(run.path, "eval/mean_return") == [5_000, 10_000]


def test_resume_continues_the_same_curves_with_no_gap_and_no_duplicate(tmp_path):
    run = api.train("qlearning", name="r", logdir=tmp_path, progress_bar=False, **FAST)
    api.resume(run.path, progress_bar=False, steps=20_000)
    assert scalar_steps(run.path, "train/epsilon") == list(range(1_000, 20_001, 1_000))
    assert scalar_steps(run.path, "eval/mean_return") == [5_000, 10_000, 15_000, 20_000]
    assert run.read_summary()["progress"] == 20_000


def test_same_seed_gives_identical_results(tmp_path):
    first = api.train("qlearning", name="one", logdir=tmp_path, progress_bar=False, **FAST)
    second = api.train("qlearning", name="two", logdir=tmp_path, progress_bar=False, **FAST)
    a, b = (load_checkpoint(run.checkpoint("last")) for run in (first, second))
    assert np.array_equal(a["learner"]["q"].numpy(), b["learner"]["q"].numpy())
    assert first.read_summary()["last_eval"]["mean_return"] == second.read_summary()["last_eval"]["mean_return"]
    third = api.train("qlearning", name="three", logdir=tmp_path, progress_bar=False, **{**FAST, "seed": 1})
    assert not np.array_equal(a["learner"]["q"].numpy(), load_checkpoint(third.checkpoint("last"))["learner"]["q"].numpy())


def start_training(run_dir, steps: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "gymforge", "train", "qlearning", "--env", "CartPole-v1", "--steps", str(steps),
               "--checkpoint-every", "5000", "--eval-every", "0", "--logdir", str(run_dir.parent),
               "--name", run_dir.name]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(run_dir, process, at_least: int) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        last = run_dir / "checkpoints" / "last.pt"
        if last.exists() and Run(run_dir, "qlearning").read_summary().get("progress", 0) >= at_least:
            return
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


def test_sigkill_mid_run_loses_at_most_the_steps_since_the_last_checkpoint(tmp_path):
    run_dir = tmp_path / "killed"
    process = start_training(run_dir, steps=400_000)
    wait_for_checkpoint(run_dir, process, at_least=20_000)
    process.send_signal(signal.SIGKILL)
    process.wait()
    # Every checkpoint file that exists is whole.
    for path in (run_dir / "checkpoints").glob("*.pt"):
        load_checkpoint(path)
    saved = load_checkpoint(run_dir / "checkpoints" / "last.pt")["progress"]
    logged = max(scalar_steps(run_dir, "train/epsilon"))
    assert saved >= 20_000 and logged - saved < 5_000 + 1_000
    assert Run(run_dir, "qlearning").status() == "interrupted"
    api.resume(run_dir, progress_bar=False, steps=saved + 10_000)
    steps = scalar_steps(run_dir, "train/epsilon")
    assert steps == sorted(set(steps)), "a step was logged twice"
    assert steps == list(range(1_000, saved + 10_001, 1_000)), "a gap in the curve"
    assert not list((run_dir / "checkpoints").glob(".*.tmp"))


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    run_dir = tmp_path / "terminated"
    process = start_training(run_dir, steps=2_000_000)
    wait_for_checkpoint(run_dir, process, at_least=5_000)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr and "resume with: gymforge train --resume" in stderr
    summary = Run(run_dir, "qlearning").read_summary()
    assert summary["status"] == "interrupted"
    assert load_checkpoint(run_dir / "checkpoints" / "last.pt")["progress"] == summary["progress"]


@dataclass
class FakeConfig(TrainConfig):
    blow_up_at: int = 3


class ExplodingLearner:
    """Reports a finite loss until blow_up_at, then NaN."""

    score_key = "score"
    score_mode = "max"

    def __init__(self, config):
        self.config, self.steps = config, 0

    @property
    def progress(self):
        return self.steps

    def train_step(self, limit=None):
        self.steps += 1
        return {"train/loss": float("nan") if self.steps >= self.config.blow_up_at else 1.0}

    def evaluate(self, split="validation"):
        return {"score": 0.0}

    def state_dict(self):
        return {"steps": self.steps}

    def load_state_dict(self, state):
        self.steps = state["steps"]

    def log_media(self, logger, step):
        pass

    def close(self):
        pass


def test_nan_guard_stops_with_a_clear_message_and_keeps_the_good_checkpoint(tmp_path):
    config = FakeConfig(steps=100, checkpoint_every=1, eval_every=0)
    run = Run.create("fake", config, tmp_path, "nan")
    with pytest.raises(NonFiniteError, match=r"train/loss became nan at step 3.*last good checkpoint"):
        Trainer(ExplodingLearner(config), run, progress_bar=False).fit()
    assert load_checkpoint(run.checkpoint("last"))["progress"] == 2
    assert run.read_summary()["status"] == "failed"
