"""Memory and pixels: where an MLP cannot see what it needs, the recurrent policy learns and the MLP does not.

Slow learning checks (CI runs them), each within a few minutes on one core, with margins over the bars.
"""

import pytest

from gymforge.api import build_learner, make_config


def train(env, steps, **options):
    """The env's preset (with options on top), trained for `steps`; returns the final evaluation."""
    learner = build_learner("ppo", make_config("ppo", {"env": env, "steps": steps, "seed": 0, **options}))
    try:
        while learner.progress < steps:
            learner.train_step()
        return learner.evaluate()
    finally:
        learner.close()


@pytest.mark.slow
def test_lstm_remembers_the_tmaze_cue_and_an_mlp_cannot():
    recurrent = train("gymforge/TMaze-v0", 16_000, eval_episodes=100)
    feed_forward = train("gymforge/TMaze-v0", 16_000, eval_episodes=100, memory="none")
    assert recurrent["success_rate"] >= 0.9, recurrent
    assert 0.3 <= feed_forward["success_rate"] <= 0.7, feed_forward  # a memoryless policy is at chance


@pytest.mark.slow
def test_transformer_memory_remembers_the_tmaze_cue():
    result = train("gymforge/TMaze-v0", 8_000, eval_episodes=100, memory="transformer", memory_length=8)
    assert result["success_rate"] >= 0.9, result


@pytest.mark.slow
def test_lstm_balances_cartpole_without_velocities_and_an_mlp_cannot():
    recurrent = train("gymforge/CartPoleNoVel-v0", 80_000)
    feed_forward = train("gymforge/CartPoleNoVel-v0", 80_000, memory="none")
    assert recurrent["mean_return"] >= 400, recurrent
    assert feed_forward["mean_return"] < 200, feed_forward


@pytest.mark.slow
def test_cnn_policy_learns_catch_from_pixels():
    result = train("gymforge/Catch-v0", 25_000, eval_episodes=50)
    assert result["success_rate"] >= 0.9, result
