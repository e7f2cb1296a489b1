"""grid_image: value heat maps and greedy arrows for the gymforge grid world, FrozenLake and CliffWalking."""

import gymnasium as gym
import numpy as np
import pytest
from gymforge.envs import EnvError, grid_image


@pytest.mark.parametrize(
    ("env_id", "kwargs", "rows", "cols"),
    [
        ("FrozenLake-v1", {"map_name": "4x4"}, 4, 4),
        ("FrozenLake-v1", {"map_name": "8x8"}, 8, 8),
        ("CliffWalking-v1", {}, 4, 12),  # Gymnasium 1.4 deprecates v0; the class and its layout are the same
        ("gymforge/GridWorld-v0", {}, 5, 8),
        ("gymforge/GridWorld-v0", {"layout": ["S.#", "L.G"]}, 2, 3),
    ],
)
def test_grid_image_shape(env_id, kwargs, rows, cols):
    env = gym.make(env_id, **kwargs)
    states = env.observation_space.n
    rng = np.random.default_rng(0)
    image = grid_image(env, rng.normal(size=states), rng.integers(4, size=states))
    assert image.shape == (rows * 32, cols * 32, 3) and image.dtype == np.uint8
    assert grid_image(env, None, None, cell=10).shape == (rows * 10, cols * 10, 3)


def test_grid_image_is_none_for_non_grid_envs():
    assert grid_image(gym.make("CartPole-v1"), np.zeros(4), None) is None


def test_values_and_arrows_change_the_picture():
    env = gym.make("FrozenLake-v1")
    plain = grid_image(env, None, None)
    heat = grid_image(env, np.arange(16.0), None)
    arrows = grid_image(env, None, np.zeros(16, dtype=int))
    assert not np.array_equal(plain, heat) and not np.array_equal(plain, arrows)
    # A hole keeps its mark, whatever its value: FrozenLake 4x4 has a hole at row 1, col 1.
    hole = (slice(32, 64), slice(32, 64))
    np.testing.assert_array_equal(plain[hole], heat[hole])


def test_arrow_directions_follow_each_envs_action_numbers():
    """FrozenLake's 0 is left and the grid world's 3 is left: both must draw the same arrow."""
    left_frozen = grid_image(gym.make("FrozenLake-v1"), None, np.full(16, 0))
    right_frozen = grid_image(gym.make("FrozenLake-v1"), None, np.full(16, 2))
    left_grid = grid_image(gym.make("gymforge/GridWorld-v0", layout=["S...", "...G"]), None, np.full(8, 3))
    cell = (slice(0, 32), slice(32, 64))  # a floor cell in both
    np.testing.assert_array_equal(left_frozen[cell], left_grid[cell])
    assert not np.array_equal(left_frozen[cell], right_frozen[cell])


def test_q_table_gives_values_and_greedy_actions():
    env = gym.make("CliffWalking-v1")
    q_table = np.zeros((48, 4))
    q_table[:, 1] = 1.0
    np.testing.assert_array_equal(grid_image(env, q_table), grid_image(env, np.ones(48), np.ones(48, dtype=int)))


def test_wrong_sizes_are_env_errors():
    env = gym.make("FrozenLake-v1")
    with pytest.raises(EnvError, match="one number per state"):
        grid_image(env, np.zeros(5))
    with pytest.raises(EnvError, match="one action in 0..3 per state"):
        grid_image(env, None, np.full(16, 4))
