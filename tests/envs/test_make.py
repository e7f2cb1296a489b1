"""make_env / make_vec_env: any registered id, clear errors, seeding, and Gymnasium's NEXT_STEP autoreset."""

import sys

import numpy as np
import pytest
from gymforge.envs import EnvError, make_env, make_vec_env
from gymnasium.wrappers import TimeAwareObservation


def test_unknown_id_suggests_close_names():
    with pytest.raises(EnvError, match="Unknown environment id 'CartPoel-v1': did you mean 'CartPole-v1'"):
        make_env("CartPoel-v1")


def test_unknown_gymforge_version_suggests_the_registered_one():
    with pytest.raises(EnvError, match="'gymforge/Catch-v0'"):
        make_env("gymforge/Catch-v9")


def test_atari_id_without_the_atari_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ale_py", None)  # `import ale_py` now raises ImportError
    with pytest.raises(EnvError, match=r"pip install 'gymforge\[atari\]'"):
        make_env("ALE/Pong-v5")


def test_box2d_id_without_the_box2d_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "Box2D", None)
    with pytest.raises(EnvError, match=r"pip install 'gymforge\[box2d\]'"):
        make_env("LunarLander-v3")


def test_module_colon_id_imports_the_module_first():
    env = make_env("envs:gymforge/Catch-v0")
    assert env.spec.id == "gymforge/Catch-v0"
    with pytest.raises(EnvError, match="Could not import module 'no_such_module'"):
        make_env("no_such_module:Thing-v0")


def test_bad_keyword_argument_is_an_env_error():
    with pytest.raises(EnvError, match="Bad keyword argument for 'gymforge/Catch-v0'"):
        make_env("gymforge/Catch-v0", paddles=3)


def test_error_messages_are_one_line():
    for bad in ("CartPoel-v1", "Foo/Bar-v0", "LunarLander-v2"):
        with pytest.raises(EnvError) as caught:
            make_env(bad)
        assert "\n" not in str(caught.value)


def test_make_env_records_episode_statistics():
    env = make_env("gymforge/Catch-v0", seed=0)
    env.reset(seed=0)
    total, done, steps = 0.0, False, 0
    while not done:
        _, reward, terminated, truncated, info = env.step(1)
        total, steps, done = total + reward, steps + 1, terminated or truncated
    assert info["episode"]["r"] == total and info["episode"]["l"] == steps == 9


@pytest.mark.parametrize("vectorization", ["sync", "async"])
def test_make_vec_env_shapes(vectorization):
    vec_env = make_vec_env("gymforge/Catch-v0", n_envs=3, seed=0, vectorization=vectorization)
    observations, _ = vec_env.reset(seed=0)
    assert observations.shape == (3, 1, 10, 10) and observations.dtype == np.uint8
    observations, rewards, terminated, truncated, _ = vec_env.step(vec_env.action_space.sample())
    assert observations.shape == (3, 1, 10, 10) and rewards.shape == terminated.shape == truncated.shape == (3,)
    vec_env.close()


def test_make_vec_env_bad_arguments():
    with pytest.raises(EnvError, match="n_envs must be at least 1"):
        make_vec_env("CartPole-v1", n_envs=0)
    with pytest.raises(EnvError, match="vectorization must be 'sync' or 'async'"):
        make_vec_env("CartPole-v1", n_envs=2, vectorization="threads")


def test_make_vec_env_applies_wrappers_to_each_env():
    vec_env = make_vec_env("CartPole-v1", n_envs=2, seed=0, wrappers=[TimeAwareObservation])
    assert vec_env.single_observation_space.shape == (5,)


def _rollout(vec_env, steps, seed):
    rng = np.random.default_rng(seed)
    observations, _ = vec_env.reset(seed=seed)
    trace = [observations]
    for _ in range(steps):
        actions = rng.integers(vec_env.single_action_space.n, size=vec_env.num_envs)
        observations, rewards, terminated, truncated, _ = vec_env.step(actions)
        trace += [observations, rewards, terminated, truncated]
    vec_env.close()
    return trace


@pytest.mark.parametrize("env_id", ["CartPole-v1", "gymforge/Catch-v0", "gymforge/GridWorld-v0"])
def test_vector_env_same_seed_same_trajectories(env_id):
    first = _rollout(make_vec_env(env_id, n_envs=3, seed=7), 60, seed=7)
    second = _rollout(make_vec_env(env_id, n_envs=3, seed=7), 60, seed=7)
    other = _rollout(make_vec_env(env_id, n_envs=3, seed=8), 60, seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_async_matches_sync():
    sync = _rollout(make_vec_env("gymforge/Catch-v0", n_envs=2, seed=3), 25, seed=3)
    async_ = _rollout(make_vec_env("gymforge/Catch-v0", n_envs=2, seed=3, vectorization="async"), 25, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(sync, async_))


def test_next_step_autoreset_returns_final_observation_then_reset():
    vec_env = make_vec_env("gymforge/TMaze-v0", n_envs=2, seed=0, length=1)  # episodes of exactly 3 steps
    vec_env.reset(seed=0)
    for _ in range(2):
        vec_env.step(np.zeros(2, dtype=int))
    final, rewards, terminated, truncated, _ = vec_env.step(np.zeros(2, dtype=int))
    assert terminated.all() and not truncated.any() and np.all(np.abs(rewards) == 1)
    np.testing.assert_array_equal(final, [[0, 0, 1], [0, 0, 1]])  # the final observation: at the junction
    first, rewards, terminated, truncated, _ = vec_env.step(np.zeros(2, dtype=int))
    assert not terminated.any() and not truncated.any() and np.all(rewards == 0)
    assert np.all(first[:, :2].sum(axis=1) == 1)  # the new episode's first observation shows its cue
    vec_env.close()


def test_is_atari_reads_the_entry_point_not_the_name():
    from gymforge.envs import is_atari

    assert not is_atari("CartPole-v1") and not is_atari("gymforge/Catch-v0")
    pytest.importorskip("ale_py")
    assert is_atari("ALE/Pong-v5") and is_atari("PongNoFrameskip-v4")
    assert is_atari("Pong-v4")  # a legacy id without ALE/ or NoFrameskip in its name
