"""Q-learning learns every preset from the command line, judged by `gymforge evaluate --json`."""

import json

import pytest

from tests.helpers import gymforge

# (env, evaluation episodes, figure, threshold): the bar for each preset.
PRESETS = [
    ("FrozenLake-v1", 1000, "success_rate", 0.70),  # slippery 4x4; optimal is about 0.74
    ("Taxi-v4", 200, "mean_return", 7.5),
    ("CliffWalking-v1", 1, "mean_return", -13.0),  # the optimal path along the cliff
    ("CartPole-v1", 100, "mean_return", 195.0),  # through the discretizing wrapper
]


@pytest.mark.parametrize("env, episodes, figure, threshold", PRESETS, ids=[p[0] for p in PRESETS])
def test_preset_learns_from_the_cli(tmp_path, env, episodes, figure, threshold):
    trained = gymforge("train", "qlearning", "--env", env, "--logdir", str(tmp_path), "--name", "run")
    assert trained.returncode == 0, trained.stderr
    evaluated = gymforge("evaluate", str(tmp_path / "run"), "--episodes", str(episodes), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    figures = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert {"mean_return", "std_return", "episodes"} <= set(figures)
    assert figures["episodes"] == episodes
    if env == "FrozenLake-v1":
        assert "success_rate" in figures
    assert figures[figure] >= threshold, figures
    print(f"{env}: {figure} {figures[figure]:.3f}, {trained.stderr.strip().splitlines()[-1]}")
