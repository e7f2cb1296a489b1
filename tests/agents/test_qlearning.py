"""Tabular Q-learning: hand-computed TD targets per update rule, the discretizer, and learning from presets."""

import gymnasium as gym
import numpy as np
import pytest
from gymforge.agents.qlearning import QLearning, QLearningConfig
from gymforge.envs.discretize import DiscretizeObservation
from gymforge.envs.errors import EnvError

from gymforge.engine.errors import ConfigError


def learner(update="q_learning", **options):
    return QLearning(QLearningConfig(env="FrozenLake-v1", update=update, gamma=0.9, **options))


def test_q_learning_target_bootstraps_from_the_max_unless_terminated():
    agent = learner()
    agent.q[0, 5] = [1.0, 3.0, 2.0, 0.0]
    assert agent.td_target(1.0, 5, terminated=False, epsilon=0.1, table=0) == pytest.approx(1.0 + 0.9 * 3.0)
    assert agent.td_target(1.0, 5, terminated=True, epsilon=0.1, table=0) == 1.0


def test_truncation_bootstraps_from_the_state_it_reached():
    """One greedy step right on a non-slippery lake, cut by a 1-step time limit: the update bootstraps."""
    agent = learner(learning_rate=0.1, final_learning_rate=0.1, epsilon=0.0, final_epsilon=0.0, log_every=1)
    agent.env = gym.wrappers.TimeLimit(gym.make("FrozenLake-v1", is_slippery=False).unwrapped, max_episode_steps=1)
    agent.observation = agent.reset_env(seed=0)
    agent.q[0, 0] = [0.0, 0.0, 1.0, 0.0]  # greedy: right, to state 1 (frozen, not terminal)
    agent.q[0, 1] = [0.5, 0.0, 0.0, 0.0]
    agent.train_step()
    # Q(0, right) <- 1 + 0.1 * (0 + 0.9 * max Q(1) - 1); treating the cut as terminal would give 1 + 0.1 * (0 - 1).
    assert agent.q[0, 0, 2] == pytest.approx(1.0 + 0.1 * (0.9 * 0.5 - 1.0))


def test_double_q_target_uses_one_table_to_pick_and_the_other_to_value():
    agent = learner("double_q")
    agent.q[0, 3] = [0.0, 5.0, 1.0, 0.0]  # table A picks action 1
    agent.q[1, 3] = [9.0, 2.0, 7.0, 0.0]  # table B values it at 2
    assert agent.td_target(0.0, 3, False, 0.1, table=0) == pytest.approx(0.9 * 2.0)
    assert agent.td_target(0.0, 3, False, 0.1, table=1) == 0.0  # B picks action 0, which A values at 0


def test_sarsa_target_uses_the_next_action_taken():
    agent = learner("sarsa")
    agent.q[0, 4] = [1.0, 2.0, 3.0, 4.0]
    agent.pending_action = 1
    assert agent.td_target(0.5, 4, False, 0.1, 0) == pytest.approx(0.5 + 0.9 * 2.0)


def test_expected_sarsa_target_averages_under_epsilon_greedy():
    agent = learner("expected_sarsa")
    agent.q[0, 4] = [1.0, 2.0, 3.0, 4.0]
    epsilon = 0.2
    expected = 0.05 * (1 + 2 + 3) + (0.05 + 0.8) * 4.0
    assert agent.td_target(0.0, 4, False, epsilon, 0) == pytest.approx(0.9 * expected)


def test_schedules_hit_their_documented_values():
    agent = learner(epsilon=1.0, final_epsilon=0.1, exploration_fraction=0.5, steps=1000)
    agent.progress = 250
    assert agent.schedules()[0] == pytest.approx(0.55)
    agent.progress = 900
    assert agent.schedules()[0] == pytest.approx(0.1)


def test_discretizer_bins_clips_and_ignores_single_bin_dimensions():
    env = DiscretizeObservation(gym.make("CartPole-v1"), bins=[1, 1, 2, 3], low=[-1, -1, -1, -3], high=[1, 1, 1, 3])
    assert env.observation_space.n == 6
    assert env.observation(np.array([0.0, 0.0, -0.5, -2.5])) == 0
    assert env.observation(np.array([0.0, 9.0, 0.5, 0.0])) == 1 * 3 + 1
    assert env.observation(np.array([0.0, 0.0, 5.0, 99.0])) == 5  # clipped into the edge bins
    with pytest.raises(EnvError, match="one per observation dimension"):
        DiscretizeObservation(gym.make("CartPole-v1"), bins=[2, 2])
    with pytest.raises(EnvError, match="unbounded"):
        DiscretizeObservation(gym.make("CartPole-v1"), bins=4)


def test_a_box_observation_without_bins_and_a_continuous_action_space_are_refused():
    with pytest.raises(ConfigError, match="discretize it with --bins"):
        QLearning(QLearningConfig(env="CartPole-v1"))
    with pytest.raises(ConfigError, match="needs a Discrete action space.*ppo"):
        QLearning(QLearningConfig(env="Pendulum-v1", bins=(4,), low=(), high=()))
