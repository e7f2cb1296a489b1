"""The rollout buffer: GAE against hand-computed values (truncation bootstraps, termination does not, reset
steps carry nothing), and minibatches that leave reset steps out or keep whole sequences."""

import numpy as np
import pytest
import torch
from gymforge.agents.ppo import PPO, PPOConfig
from gymforge.agents.rollout import RolloutBuffer
from gymforge.envs import make_env


def buffer_with(rewards, values, terminated, truncated, valid):
    buffer = RolloutBuffer(len(rewards), 1, (2,), np.float32, (), np.int64)
    buffer.rewards[:, 0], buffer.values[:, 0] = rewards, values
    buffer.terminated[:, 0], buffer.truncated[:, 0], buffer.valid[:, 0] = terminated, truncated, valid
    return buffer


def test_gae_by_hand_with_a_truncation_and_a_termination():
    # t1 is truncated: t2 is the reset step whose stored value 2.0 is V(true final obs) and is bootstrapped.
    # t4 is terminated: t5's value 7.0 (its final obs) must not be bootstrapped. gamma 0.9, lambda 0.8.
    buffer = buffer_with(rewards=[1, 1, 0, 1, 1, 0], values=[0.5, 0.6, 2.0, 0.4, 0.3, 7.0],
                         terminated=[0, 0, 0, 0, 1, 0], truncated=[0, 1, 0, 0, 0, 0], valid=[1, 1, 0, 1, 1, 0])
    buffer.compute_gae(np.array([0.2]), gamma=0.9, gae_lambda=0.8)
    # A4 = 1 - 0.3 = 0.7;  A3 = (1 + 0.9 * 0.3 - 0.4) + 0.72 * 0.7 = 1.374
    # A1 = 1 + 0.9 * 2.0 - 0.6 = 2.2 (chain cut);  A0 = (1 + 0.9 * 0.6 - 0.5) + 0.72 * 2.2 = 2.624
    np.testing.assert_allclose(buffer.advantages[:, 0], [2.624, 2.2, 0.0, 1.374, 0.7, 0.0], rtol=1e-6)
    np.testing.assert_allclose(buffer.returns[[0, 1, 3, 4], 0], [3.124, 2.8, 1.774, 1.0], rtol=1e-6)


@pytest.mark.parametrize("terminated, expected", [(False, 1 + 0.9 * 2.0 - 0.5), (True, 1 - 0.5)])
def test_last_step_bootstraps_from_last_values_unless_terminated(terminated, expected):
    buffer = buffer_with([1.0], [0.5], [terminated], [not terminated], [True])
    buffer.compute_gae(np.array([2.0]), gamma=0.9, gae_lambda=0.95)
    assert buffer.advantages[0, 0] == pytest.approx(expected)


def test_samples_leave_reset_steps_out_and_sequences_keep_whole_columns():
    buffer = RolloutBuffer(4, 4, (3,), np.float32, (), np.int64)
    buffer.observations[:] = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    buffer.valid[2, 1] = buffer.valid[0, 3] = False
    rng = np.random.default_rng(0)
    seen = torch.cat([batch.observations[:, 0] for batch in buffer.samples(2, rng)])
    assert sorted(seen.tolist()) == sorted(set(range(16)) - {9, 3})
    buffer.initial_state = ((torch.arange(4.0).view(1, 4, 1), torch.zeros(1, 4, 1)),)
    for batch in buffer.sequences(2, rng):
        assert batch.observations.shape == (4, 2, 3)
        columns = batch.observations[0, :, 0].long()  # column index = value at t=0
        assert torch.equal(batch.initial_state[0][0].flatten().long(), columns)
        expected_mask = torch.tensor([[buffer.valid[t, c] for c in columns] for t in range(4)]).flatten()
        assert torch.equal(batch.mask.bool(), expected_mask)


def test_rollout_stores_the_true_final_observation_and_skips_the_reset_step():
    """CartPole cut at 5 steps: step 5 holds the 5th step's observation (replayed on a single env), is
    invalid, and step 6 starts the next episode; step 4's advantage bootstraps from step 5's value."""
    config = PPOConfig(env="CartPole-v1", env_options=("max_episode_steps=5",), n_envs=2, n_steps=12, batch_size=24,
                       gamma=0.9, gae_lambda=0.0, seed=3)
    agent = PPO(config)
    agent.collect_rollout()
    buffer = agent.buffer
    assert buffer.truncated[4, 0] and not buffer.terminated[4, 0]
    assert not buffer.valid[5, 0] and buffer.valid[6, 0] and buffer.episode_starts[6, 0] == 1
    env = make_env("CartPole-v1", max_episode_steps=5)
    observation, _ = env.reset(seed=3)  # sub-env 0 is seeded with the config's seed
    np.testing.assert_allclose(observation, buffer.observations[0, 0])
    for t in range(5):
        observation, *_ = env.step(int(buffer.actions[t, 0]))
    np.testing.assert_allclose(observation, buffer.observations[5, 0])
    expected = buffer.rewards[4, 0] + 0.9 * buffer.values[5, 0] - buffer.values[4, 0]
    assert buffer.advantages[4, 0] == pytest.approx(expected, rel=1e-5)
    agent.close()
