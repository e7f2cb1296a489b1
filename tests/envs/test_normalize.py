"""Vector normalizers: statistics saved as plain data, restored elsewhere, frozen for evaluation."""

import pickle

import numpy as np
import pytest
from gymforge.envs import (
    EnvError,
    NormalizeObservation,
    NormalizeReward,
    RunningMeanStd,
    load_normalization_state,
    make_vec_env,
    normalization_state,
)


def _normalized_cartpole(seed, n_envs=4):
    return NormalizeReward(NormalizeObservation(make_vec_env("CartPole-v1", n_envs=n_envs, seed=seed)))


def _run(vec_env, steps, seed=0):
    rng = np.random.default_rng(seed)
    observations = []
    for _ in range(steps):
        observation, *_ = vec_env.step(rng.integers(2, size=vec_env.num_envs))
        observations.append(observation)
    return np.concatenate(observations)


def test_running_mean_std_matches_numpy_over_batches():
    data = np.random.default_rng(0).normal(3.0, 2.0, size=(1000, 2))
    rms = RunningMeanStd(shape=(2,))
    for batch in np.split(data, 10):
        rms.update(batch)
    np.testing.assert_allclose(rms.mean, data.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(rms.var, data.var(axis=0), rtol=1e-3)


def test_observations_are_normalized():
    vec_env = _normalized_cartpole(0)
    vec_env.reset(seed=0)
    observations = _run(vec_env, 300)
    assert np.all(np.abs(observations[-400:].mean(axis=0)) < 0.5) and observations.dtype == np.float32


def test_state_is_plain_data_and_round_trips():
    trained = _normalized_cartpole(0)
    trained.reset(seed=0)
    _run(trained, 100)
    state = normalization_state(trained)
    assert set(state) == {"NormalizeObservation", "NormalizeReward"}
    restored = pickle.loads(pickle.dumps(state))  # plain dicts of arrays and floats
    evaluation = _normalized_cartpole(1, n_envs=2)
    load_normalization_state(evaluation, restored, training=False)
    assert not evaluation.training and not evaluation.env.training
    evaluation.reset(seed=5)
    _run(evaluation, 50)
    after = normalization_state(evaluation)
    np.testing.assert_array_equal(after["NormalizeObservation"]["obs_rms"]["mean"],
                                  state["NormalizeObservation"]["obs_rms"]["mean"])
    assert after["NormalizeReward"]["return_rms"]["count"] == state["NormalizeReward"]["return_rms"]["count"]


def test_training_flag_updates_statistics():
    vec_env = NormalizeObservation(make_vec_env("CartPole-v1", n_envs=2, seed=0), training=False)
    vec_env.reset(seed=0)
    _run(vec_env, 10)
    assert vec_env.get_state()["obs_rms"]["count"] < 1
    vec_env.training = True
    _run(vec_env, 10)
    assert vec_env.get_state()["obs_rms"]["count"] >= 20


def test_loading_statistics_of_another_shape_is_an_env_error():
    state = NormalizeObservation(make_vec_env("CartPole-v1", n_envs=1)).get_state()
    other = NormalizeObservation(make_vec_env("gymforge/TMaze-v0", n_envs=1))
    with pytest.raises(EnvError, match="shape"):
        other.set_state(state)
    with pytest.raises(EnvError, match="no NormalizeReward statistics"):
        load_normalization_state(NormalizeReward(make_vec_env("CartPole-v1", n_envs=1)), {})


def test_discounted_return_restarts_at_truncations_too():
    """Regression: Gymnasium 1.4 restarts the return only at terminations, so in a time-limited task it grew
    across episodes (rewards shrank about 5x on MountainCarContinuous); SB3's VecNormalize restarts on both."""
    envs = NormalizeReward(make_vec_env("CartPole-v1", n_envs=2, seed=0, max_episode_steps=5), gamma=1.0)
    envs.reset(seed=0)
    largest = 0.0
    for _ in range(40):  # eight 5-step episodes, every one truncated (CartPole cannot fall in 5 steps)
        _, _, terminated, truncated, _ = envs.step(np.zeros(2, dtype=np.int64))
        assert not terminated.any()
        largest = max(largest, *envs.accumulated_reward)
    assert largest <= 5.0  # one episode's return, never a sum over episodes
    assert float(envs.return_rms.mean) == pytest.approx(3.0, abs=0.3)  # the returns 1..5 seen equally often


def test_normalized_observations_and_rewards_are_clipped_at_10():
    envs = NormalizeReward(NormalizeObservation(make_vec_env("CartPole-v1", n_envs=2, seed=0)))
    load_normalization_state(envs, {"NormalizeObservation": {"obs_rms": {"mean": np.zeros(4), "var": np.full(4, 1e-8),
                                                                         "count": 1.0}},
                                    "NormalizeReward": {"return_rms": {"mean": 0.0, "var": 1e-6, "count": 1.0}}},
                             training=False)
    observations, _ = envs.reset(seed=0)
    assert np.abs(observations).max() == pytest.approx(10.0)  # raw values of ~0.03 over a std of 1e-4
    observations, rewards, *_ = envs.step(np.zeros(2, dtype=np.int64))
    assert np.abs(observations).max() == pytest.approx(10.0) and np.all(rewards == 10.0)
