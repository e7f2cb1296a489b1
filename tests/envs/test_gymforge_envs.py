"""gymforge's own environments: Gymnasium's checker, rendering, determinism, and what each one is for."""

import gymforge.envs as envs
import gymnasium as gym
import numpy as np
import pytest
from gymforge.envs import EnvError
from gymnasium.utils.env_checker import check_env


@pytest.mark.parametrize("env_id", envs.ENV_IDS)
def test_gymnasium_env_checker_passes(env_id):
    check_env(gym.make(env_id, render_mode="rgb_array").unwrapped, skip_render_check=False)


@pytest.mark.parametrize("env_id", envs.ENV_IDS)
def test_renders_rgb_array_and_human(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    assert env.metadata["render_fps"] > 0
    env.reset(seed=0)
    env.step(env.action_space.sample())
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8 and frame.std() > 0
    env.close()
    human = gym.make(env_id, render_mode="human")  # SDL_VIDEODRIVER=dummy (tests/conftest.py)
    human.reset(seed=0)
    human.step(human.action_space.sample())
    assert human.render() is None
    human.close()


def _trajectory(env_id, seed, steps=80, **kwargs):
    env = gym.make(env_id, **kwargs)
    env.action_space.seed(seed)
    observation, _ = env.reset(seed=seed)
    trace = [np.asarray(observation)]
    for _ in range(steps):
        observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        trace.append((np.asarray(observation).tolist(), reward, terminated, truncated))
        if terminated or truncated:
            observation, _ = env.reset()
            trace.append(np.asarray(observation))
    return trace


@pytest.mark.parametrize("env_id", envs.ENV_IDS)
def test_same_seed_same_trajectory(env_id):
    kwargs = {"slip": 0.3} if "GridWorld" in env_id else {}
    first, second = _trajectory(env_id, 3, **kwargs), _trajectory(env_id, 3, **kwargs)
    assert len(first) == len(second)
    assert all(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)) for a, b in zip(first, second))


# --- Catch -----------------------------------------------------------------------------------------


def _catch_policy(observation):
    """Move the paddle (bottom row) under the ball (the other lit pixel)."""
    image = observation[0]
    paddle = int(np.flatnonzero(image[-1])[0]) if image[-1].any() else 0
    _, ball_cols = np.nonzero(image[:-1])
    if len(ball_cols) == 0:
        return 1
    return 1 + int(np.sign(ball_cols[0] - paddle))


def test_catch_scripted_policy_gets_the_maximum_score():
    env = gym.make("gymforge/Catch-v0", balls=5)
    for seed in range(20):
        observation, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            observation, reward, terminated, truncated, info = env.step(_catch_policy(observation))
            total, done = total + reward, terminated or truncated
        assert total == 5 and info["is_success"] and not truncated


def test_catch_misses_are_punished_and_not_successful():
    env = gym.make("gymforge/Catch-v0")
    observation, _ = env.reset(seed=0)
    ball_col = int(np.flatnonzero(observation[0, 0])[0])
    action = 0 if ball_col > 5 else 2  # run away from the ball
    for _ in range(9):
        observation, reward, terminated, truncated, info = env.step(action)
    assert (reward, terminated, truncated, info["is_success"]) == (-1.0, True, False, False)


def test_catch_observation_is_channel_first_uint8():
    env = gym.make("gymforge/Catch-v0")
    observation, _ = env.reset(seed=0)
    assert observation.shape == (1, 10, 10) and observation.dtype == np.uint8 and observation.sum() == 2 * 255


def test_catch_bad_options():
    with pytest.raises(EnvError, match="at least one ball"):
        gym.make("gymforge/Catch-v0", balls=0)


# --- T-maze ----------------------------------------------------------------------------------------


def _tmaze_episode(env, seed, choose):
    """Play one episode; `choose(first_observation, junction_observation)` picks the arm."""
    first, _ = env.reset(seed=seed)
    observation, steps = first, 0
    while observation[2] == 0:
        observation, reward, terminated, truncated, _ = env.step(0)
        steps += 1
        assert reward == 0 and not terminated and not truncated
    _, reward, terminated, truncated, info = env.step(choose(first, observation))
    assert terminated and not truncated and steps == env.unwrapped.length + 1
    return reward, info["is_success"]


def test_tmaze_policy_with_memory_always_succeeds():
    env = gym.make("gymforge/TMaze-v0", length=8)
    results = [_tmaze_episode(env, seed, lambda first, _: int(first[1] == 1)) for seed in range(100)]
    assert all(success for _, success in results) and sum(reward for reward, _ in results) == 100


def test_tmaze_the_best_memoryless_policy_is_at_chance():
    """A memoryless policy acts on the current observation only, and only the junction action counts.

    The junction observation is the same for both cues, and both cues are equally likely, so any
    memoryless policy, choosing left with probability p, succeeds with probability 0.5 p + 0.5 (1 - p) = 0.5.
    Here: the junction observation never depends on the cue, and both deterministic memoryless policies
    (always left, always right: the extreme points of that line) succeed about half of the time.
    """
    env = gym.make("gymforge/TMaze-v0", length=3)
    junctions, cues = set(), []
    for seed in range(200):
        first, _ = env.reset(seed=seed)
        cues.append(int(first[1]))
        observation = first
        while observation[2] == 0:
            observation, *_ = env.step(0)
        junctions.add(tuple(observation))
    assert junctions == {(0.0, 0.0, 1.0)}
    assert abs(np.mean(cues) - 0.5) < 0.1
    for arm in (0, 1):
        successes = [_tmaze_episode(env, seed, lambda first, junction, arm=arm: arm)[1] for seed in range(400)]
        assert abs(np.mean(successes) - 0.5) < 0.07  # 0.5 +- 2.8 standard errors


def test_tmaze_cue_only_in_the_first_observation():
    env = gym.make("gymforge/TMaze-v0", length=4)
    observation, _ = env.reset(seed=1)
    assert observation[:2].sum() == 1 and observation.dtype == np.float32
    for _ in range(4):
        observation, *_ = env.step(1)
        assert observation[:2].sum() == 0


# --- Grid world ------------------------------------------------------------------------------------


def test_gridworld_goal_lava_and_cliff():
    env = gym.make("gymforge/GridWorld-v0", layout=["SLG", ".C.", "..."]).unwrapped
    env.reset(seed=0)
    state, reward, terminated, truncated, info = env.step(1)  # right, into the lava
    assert (reward, terminated, truncated, info["is_success"]) == (-1.0, True, False, False)
    env.reset(seed=0)
    assert env.step(2)[0] == 3  # down to (1, 0)
    state, reward, terminated, _, _ = env.step(1)  # right, off the cliff: back to the start, the episode goes on
    assert (state, reward, terminated) == (0, -1.0, False)
    for action in (2, 2, 1, 1, 0):  # around the cliff
        state, reward, terminated, truncated, info = env.step(action)
        assert (reward, terminated) == (0.0, False)
    state, reward, terminated, truncated, info = env.step(0)
    assert (state, reward, terminated, truncated, info["is_success"]) == (2, 1.0, True, False, True)


def test_gridworld_walls_block_and_index_is_row_major():
    env = gym.make("gymforge/GridWorld-v0", layout=["S#", ".G"]).unwrapped
    env.reset(seed=0)
    assert env.step(1)[0] == 0  # the wall blocks
    assert env.step(3)[0] == 0  # so does the border
    assert env.step(2)[0] == 2  # (1, 0) -> 1 * cols + 0


def test_gridworld_is_time_limited_by_truncation():
    env = gym.make("gymforge/GridWorld-v0", max_episode_steps=5)
    env.reset(seed=0)
    flags = [env.step(3)[2:4] for _ in range(5)]
    assert flags[-1] == (False, True) and all(flag == (False, False) for flag in flags[:-1])


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (["S.X", "..G"], "Unknown layout characters"),
        (["...", "..G"], "exactly one start"),
        (["S#.", "##G"], "No goal 'G' can be reached"),
        (["S..", ".G"], "equal length"),
        ("maze9", "Unknown grid layout 'maze9'"),
    ],
)
def test_gridworld_bad_layouts(layout, message):
    with pytest.raises(EnvError, match=message):
        gym.make("gymforge/GridWorld-v0", layout=layout)


@pytest.mark.parametrize("name", sorted(envs.LAYOUTS))
def test_gridworld_builtin_layouts_load(name):
    env = gym.make("gymforge/GridWorld-v0", layout=name)
    assert env.observation_space.n == len(envs.LAYOUTS[name]) * len(envs.LAYOUTS[name][0])


# --- CartPole without velocities -------------------------------------------------------------------


def test_cartpole_no_velocity_sees_positions_of_the_same_cartpole():
    hidden, full = gym.make("gymforge/CartPoleNoVel-v0"), gym.make("CartPole-v1")
    assert hidden.spec.max_episode_steps == full.spec.max_episode_steps == 500
    assert hidden.observation_space.shape == (2,)
    observation, _ = hidden.reset(seed=4)
    full_observation, _ = full.reset(seed=4)
    np.testing.assert_array_equal(observation, full_observation[[0, 2]])
    for action in [0, 1, 1, 0, 1] * 4:
        observation, reward, terminated, truncated, _ = hidden.step(action)
        full_observation, full_reward, full_terminated, full_truncated, _ = full.step(action)
        np.testing.assert_array_equal(observation, full_observation[[0, 2]])
        assert (reward, terminated, truncated) == (full_reward, full_terminated, full_truncated)
        if terminated:
            break
