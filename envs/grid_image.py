"""Draw state values and a greedy policy over a grid environment, to see what a tabular agent has learned."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError
from gymforge.envs.gridworld import GridWorldEnv
from gymforge.envs.rendering import draw_grid
from gymnasium.envs.toy_text.cliffwalking import CliffWalkingEnv
from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv

# Each environment's action number -> arrow direction (0 = up, 1 = right, 2 = down, 3 = left).
_FROZEN_LAKE_DIRECTIONS = np.array([3, 2, 1, 0])  # FrozenLake: 0 = left, 1 = down, 2 = right, 3 = up
_UP_RIGHT_DOWN_LEFT = np.array([0, 1, 2, 3])  # CliffWalking and the gymforge grid world


def grid_cells(env: gym.Env) -> tuple[list[str], np.ndarray] | None:
    """The grid as cell letters (see `envs.rendering.draw_grid`) and the action -> direction map, or None."""
    unwrapped = env.unwrapped
    if isinstance(unwrapped, GridWorldEnv):
        return list(unwrapped.layout), _UP_RIGHT_DOWN_LEFT
    if isinstance(unwrapped, FrozenLakeEnv):
        letters = {"S": "S", "F": ".", "H": "H", "G": "G"}
        cells = ["".join(letters[ch.decode()] for ch in row) for row in unwrapped.desc]
        return cells, _FROZEN_LAKE_DIRECTIONS
    if isinstance(unwrapped, CliffWalkingEnv):
        rows, cols = unwrapped.shape
        grid = np.full((rows, cols), ".")
        grid[unwrapped._cliff] = "C"
        grid[np.unravel_index(unwrapped.start_state_index, unwrapped.shape)] = "S"
        grid[rows - 1, cols - 1] = "G"  # CliffWalking's goal is the bottom-right corner
        return ["".join(row) for row in grid], _UP_RIGHT_DOWN_LEFT
    return None


def grid_image(
    env: gym.Env,
    values: np.ndarray | None = None,
    greedy_actions: np.ndarray | None = None,
    cell: int = 32,
) -> np.ndarray | None:
    """An (rows * cell, cols * cell, 3) uint8 image of a grid env with a value heat map and greedy-action arrows.

    Works for the gymforge grid world, FrozenLake-v1 and CliffWalking-v0; returns None for other environments.
    `values` holds one value per state (or a (states, actions) Q-table, whose max and argmax are drawn);
    `greedy_actions` one action per state. Walls, holes, lava, cliffs and goals are drawn as marked cells.
    """
    found = grid_cells(env)
    if found is None:
        return None
    cells, directions_of = found
    rows, cols = len(cells), len(cells[0])
    if values is not None:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 2 and values.shape[0] == rows * cols:
            if greedy_actions is None:
                greedy_actions = values.argmax(axis=1)
            values = values.max(axis=1)
        if values.size != rows * cols:
            raise EnvError(f"values must hold one number per state ({rows * cols}), got shape {values.shape}.")
        values = values.reshape(rows, cols)
    directions = None
    if greedy_actions is not None:
        actions = np.asarray(greedy_actions).astype(int).reshape(-1)
        if actions.size != rows * cols or actions.min() < 0 or actions.max() >= len(directions_of):
            raise EnvError(
                f"greedy_actions must hold one action in 0..{len(directions_of) - 1} per state ({rows * cols})."
            )
        directions = directions_of[actions].reshape(rows, cols)
    return draw_grid(cells, cell=cell, values=values, directions=directions)
