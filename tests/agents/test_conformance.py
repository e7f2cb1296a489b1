"""Conformance matrix: every synthetic space of tests/agents/conformance_envs.py against every algorithm that
should take it (a few train steps, evaluate, save, load, `watch --record`), and a one-line refusal (exit 2, no
traceback) where an algorithm cannot take it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gymforge.app.cli import main
from tests.agents.conformance_envs import env_id
from tests.helpers import ROOT

TINY = {
    "ppo": ["--n-envs", "2", "--n-steps", "16", "--batch-size", "16", "--n-epochs", "1", "--steps", "64"],
    "dqn": ["--steps", "96", "--learning-starts", "32", "--batch-size", "8", "--buffer-size", "500",
            "--log-every", "48", "--train-freq", "4"],
    "qlearning": ["--steps", "96", "--log-every", "48"],
}
RUN = ["--eval-every", "48", "--checkpoint-every", "48", "--eval-episodes", "2", "--preset", "none"]

# (env, algorithms that take it, algorithms that must refuse it)
MATRIX = [
    ("Float64Box", ["ppo", "dqn"], ["qlearning"]),
    ("Box2D", ["ppo", "dqn"], ["qlearning"]),
    ("ChannelLastImage", ["ppo", "dqn"], ["qlearning"]),
    ("ChannelFirstImage", ["ppo", "dqn"], ["qlearning"]),
    ("Dict", ["ppo", "dqn"], ["qlearning"]),
    ("Tuple", ["ppo", "dqn"], ["qlearning"]),
    ("DiscreteTuple", ["ppo", "dqn", "qlearning"], []),
    ("MultiBinaryAction", ["ppo"], ["dqn", "qlearning"]),
    ("DiscreteStart", ["ppo", "dqn"], ["qlearning"]),
    ("UnboundedBoxAction", ["ppo"], ["dqn", "qlearning"]),
    ("Masked", ["ppo", "dqn"], ["qlearning"]),
]
TAKES = [(env, algo) for env, takers, _ in MATRIX for algo in takers]
REFUSES = [(env, algo) for env, _, refusers in MATRIX for algo in refusers]


@pytest.mark.parametrize(("env", "algo"), TAKES, ids=[f"{algo}-{env}" for env, algo in TAKES])
def test_algorithm_trains_evaluates_reloads_and_records(env, algo, tmp_path, capsys):
    name = f"{algo}-{env}"
    assert main(["train", algo, "--env", env_id(env), *TINY[algo], *RUN, "--logdir", str(tmp_path),
                 "--name", name]) == 0
    run = tmp_path / name
    assert (run / "checkpoints" / "last.pt").exists()
    capsys.readouterr()
    assert main(["evaluate", str(run), "--episodes", "3", "--json"]) == 0  # loads the saved checkpoint
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["episodes"] == 3 and figures["mean_length"] >= 1
    gif = tmp_path / f"{name}.gif"
    assert main(["watch", str(run), "--episodes", "1", "--record", str(gif)]) == 0
    assert gif.read_bytes()[:6] in (b"GIF87a", b"GIF89a")


@pytest.mark.parametrize(("env", "algo"), REFUSES, ids=[f"{algo}-{env}" for env, algo in REFUSES])
def test_algorithm_refuses_a_space_it_cannot_take_in_one_line(env, algo, tmp_path, capsys):
    assert main(["train", algo, "--env", env_id(env), *TINY[algo], *RUN, "--logdir", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and error.startswith("gymforge: error:")
    assert "ppo" in error or "dqn" in error  # names the algorithms that fit


@pytest.mark.parametrize("algo", ["ppo", "dqn", "qlearning"])
def test_a_graph_observation_is_refused_in_one_line_naming_the_space_and_what_fits(algo, tmp_path):
    """A subprocess, so the exit code and the absence of a traceback are the real CLI's."""
    result = subprocess.run([sys.executable, "-m", "gymforge", "train", algo, "--env", env_id("Graph"),
                             *TINY[algo], *RUN, "--logdir", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "Graph" in lines[0] and "ppo" in lines[0] and "qlearning" in lines[0]


def test_the_text_key_is_dropped_with_one_printed_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gymforge", "train", "ppo", "--env", env_id("Dict"),
                             *TINY["ppo"], *RUN, "--logdir", str(tmp_path), "--name", "dict"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    dropped = [line for line in result.stdout.splitlines() if "dropping observation" in line]
    assert len(dropped) == 1 and "mission (Text)" in dropped[0]


def test_observation_keys_choose_the_parts_and_an_unknown_key_is_one_line(tmp_path, capsys):
    assert main(["train", "ppo", "--env", env_id("Dict"), *TINY["ppo"], *RUN, "--logdir", str(tmp_path),
                 "--name", "image-only", "--observation-keys", "image"]) == 0
    capsys.readouterr()
    assert main(["train", "ppo", "--env", env_id("Dict"), *TINY["ppo"], *RUN, "--logdir", str(tmp_path),
                 "--observation-keys", "colour"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "colour" in error and "image" in error


@pytest.mark.parametrize("flags", [["--normalize-observation"], ["--memory", "lstm", "--batch-size", "16"]])
def test_ppo_options_that_need_array_observations_refuse_a_dict_in_one_line(flags, tmp_path, capsys):
    assert main(["train", "ppo", "--env", env_id("Dict"), *TINY["ppo"], *RUN, *flags, "--logdir", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "Dict" in error
