"""A grid world with layouts written as strings, and discrete state-index observations for tabular agents."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError
from gymforge.envs.rendering import PygameWindow, draw_grid
from gymnasium import spaces

# 'S' start, '.' floor, '#' wall, 'G' goal (ends the episode), 'L' lava (ends it, badly),
# 'C' cliff (a penalty and back to the start, as in Gymnasium's CliffWalking).
LAYOUTS: dict[str, list[str]] = {
    "open": ["S....", ".....", ".....", ".....", "....G"],
    "walls": [
        "S..#....",
        ".#.#.##.",
        ".#...#..",
        ".####.#.",
        "......#G",
    ],
    "lava": [
        "S......",
        ".LLLLL.",
        ".......",
        ".LLLLL.",
        "......G",
    ],
    "cliff": [
        "........",
        "........",
        "SCCCCCCG",
    ],
}
_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))  # 0 = up, 1 = right, 2 = down, 3 = left (CliffWalking's order)


def _check_layout(layout: Sequence[str]) -> list[str]:
    rows = [str(row) for row in layout]
    if not rows or any(len(row) != len(rows[0]) for row in rows) or not rows[0]:
        raise EnvError("A grid layout must be a non-empty list of strings of equal length, like ['S..', '..G'].")
    unknown = sorted(set("".join(rows)) - set("S.#GLC"))
    if unknown:
        raise EnvError(f"Unknown layout characters {unknown}: use S (start), . # G L C (floor, wall, goal, lava, cliff).")
    if "".join(rows).count("S") != 1 or "G" not in "".join(rows):
        raise EnvError("A grid layout needs exactly one start 'S' and at least one goal 'G'.")
    start = next((r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "S")
    seen, queue = {start}, deque([start])
    while queue:  # breadth-first search: the goal must be reachable without stepping on lava, cliff or walls
        r, c = queue.popleft()
        if rows[r][c] == "G":
            return rows
        for dr, dc in _MOVES:
            nr, nc = r + dr, c + dc
            if 0 <= nr < len(rows) and 0 <= nc < len(rows[0]) and (nr, nc) not in seen and rows[nr][nc] in ".G":
                seen.add((nr, nc))
                queue.append((nr, nc))
    raise EnvError("No goal 'G' can be reached from the start 'S' in this layout; open a path through the walls.")


class GridWorldEnv(gym.Env):
    """Move up/right/down/left on a grid read from strings; the observation is the cell index `row * cols + col`.

    Rewards: `goal_reward` on reaching 'G' and `lava_reward` on 'L' (both end the episode), `cliff_reward` on 'C'
    (back to the start, the episode goes on), `step_reward` otherwise. With probability `slip` the move is a
    random one. Walls and the border block moves. `layout` is a name in `LAYOUTS` or a list of strings.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "human"], "render_fps": 8}

    def __init__(
        self,
        layout: str | Sequence[str] = "walls",
        slip: float = 0.0,
        step_reward: float = 0.0,
        goal_reward: float = 1.0,
        lava_reward: float = -1.0,
        cliff_reward: float = -1.0,
        render_mode: str | None = None,
    ):
        if isinstance(layout, str):
            if layout not in LAYOUTS:
                raise EnvError(f"Unknown grid layout '{layout}': use one of {sorted(LAYOUTS)} or a list of strings.")
            layout = LAYOUTS[layout]
        if not 0.0 <= slip <= 1.0:
            raise EnvError(f"slip is a probability and must be in [0, 1], got {slip}.")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise EnvError(f"GridWorld render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}.")
        self.layout = _check_layout(layout)
        self.rows, self.cols = len(self.layout), len(self.layout[0])
        self.slip = slip
        self.rewards = {"G": goal_reward, "L": lava_reward, "C": cliff_reward}
        self.step_reward = step_reward
        self.render_mode = render_mode
        self.observation_space = spaces.Discrete(self.rows * self.cols)
        self.action_space = spaces.Discrete(4)
        self.start = next((r, c) for r, row in enumerate(self.layout) for c, ch in enumerate(row) if ch == "S")
        self._position = self.start
        self._window = PygameWindow("gymforge GridWorld", self.metadata["render_fps"])  # opens on first human frame

    def state_index(self, row: int, col: int) -> int:
        return row * self.cols + col

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self._position = self.start
        if self.render_mode == "human":
            self.render()
        return self.state_index(*self._position), {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise EnvError(f"GridWorld actions are 0 (up), 1 (right), 2 (down) or 3 (left), got {action!r}.")
        if self.slip > 0 and self.np_random.random() < self.slip:
            action = int(self.np_random.integers(4))
        dr, dc = _MOVES[int(action)]
        row, col = self._position[0] + dr, self._position[1] + dc
        if 0 <= row < self.rows and 0 <= col < self.cols and self.layout[row][col] != "#":
            self._position = (row, col)
        cell = self.layout[self._position[0]][self._position[1]]
        reward = self.rewards.get(cell, self.step_reward)
        terminated = cell in "GL"
        info: dict[str, Any] = {}
        if terminated:
            info["is_success"] = cell == "G"
        if cell == "C":
            self._position = self.start
        if self.render_mode == "human":
            self.render()
        return self.state_index(*self._position), float(reward), terminated, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("GridWorld.render() called without a render_mode; pass render_mode='rgb_array'.")
            return None
        frame = draw_grid(self.layout, agent=self._position)
        return self._window.present(frame, self.render_mode)

    def close(self) -> None:
        self._window.close()
