"""benchmarks/dqn_cartpole.py gives both libraries the same budget and judges the policy its last evaluation saw."""

import pytest

from benchmarks import dqn_cartpole as bench


def test_both_libraries_stop_at_the_budget(monkeypatch):
    """Regression: SB3's learn() finishes its 256-step rollout past the budget and trains one more round, so its
    final return judged a policy trained on more steps than gymforge's (50,176, not 50,000)."""
    pytest.importorskip("stable_baselines3")
    for name, value in (("BUDGET", 600), ("EVAL_EVERY", 300), ("EVAL_EPISODES", 2), ("FINAL_EPISODES", 2),
                        ("SB3_ZOO", {**bench.SB3_ZOO, "learning_starts": 100, "gradient_steps": 4})):
        monkeypatch.setattr(bench, name, value)
    sb3 = bench.run_sb3(seed=0)
    gymforge = bench.run_gymforge(seed=0, overrides={"learning_starts": 100, "gradient_steps": 4})
    assert sb3["steps"] == gymforge["steps"] == 600
    assert [point[0] for point in sb3["curve"]] == [point[0] for point in gymforge["curve"]] == [300, 600]
