"""Catch: a tiny pixel game (a ball falls, a paddle catches it) that a CNN agent learns in minutes on a CPU."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError
from gymforge.envs.rendering import PygameWindow, upscale
from gymnasium import spaces

_BACKGROUND = np.array([20, 20, 30], dtype=np.uint8)
_BALL = np.array([240, 80, 60], dtype=np.uint8)
_PADDLE = np.array([230, 230, 230], dtype=np.uint8)


class CatchEnv(gym.Env):
    """A ball falls one row per step from a random column; the paddle on the bottom row moves to catch it.

    Observation: a channel-first (1, rows, cols) uint8 image (ball and paddle pixels are 255), ready for a CNN.
    Actions: 0 = left, 1 = stay, 2 = right. Reward: +1 when a ball is caught, -1 when missed, else 0.
    An episode drops `balls` balls, one after the other; the final info holds `is_success` (no ball missed).
    With rows >= cols every ball can be caught, so the best return is `balls`.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "human"], "render_fps": 10}

    def __init__(self, rows: int = 10, cols: int = 10, balls: int = 1, render_mode: str | None = None):
        if rows < 3 or cols < 3:
            raise EnvError(f"Catch needs at least a 3x3 grid, got rows={rows}, cols={cols}.")
        if balls < 1:
            raise EnvError(f"Catch needs at least one ball per episode, got balls={balls}.")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise EnvError(f"Catch render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}.")
        self.rows, self.cols, self.balls = rows, cols, balls
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0, 255, shape=(1, rows, cols), dtype=np.uint8)
        self.action_space = spaces.Discrete(3)
        self._window = PygameWindow("gymforge Catch", self.metadata["render_fps"])  # opens on first human frame
        self._ball_row = self._ball_col = self._paddle_col = 0
        self._caught = self._missed = 0

    def _observation(self) -> np.ndarray:
        image = np.zeros((1, self.rows, self.cols), dtype=np.uint8)
        image[0, self._ball_row, self._ball_col] = 255
        image[0, self.rows - 1, self._paddle_col] = 255
        return image

    def _info(self) -> dict[str, Any]:
        return {"caught": self._caught, "missed": self._missed}

    def _drop_ball(self) -> None:
        self._ball_row = 0
        self._ball_col = int(self.np_random.integers(self.cols))

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._paddle_col = self.cols // 2
        self._caught = self._missed = 0
        self._drop_ball()
        if self.render_mode == "human":
            self.render()
        return self._observation(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        if action not in (0, 1, 2):  # cheaper than action_space.contains, and numpy integers compare equal
            raise EnvError(f"Catch actions are 0 (left), 1 (stay) or 2 (right), got {action!r}.")
        self._paddle_col = min(max(self._paddle_col + int(action) - 1, 0), self.cols - 1)
        self._ball_row += 1
        reward, terminated = 0.0, False
        if self._ball_row == self.rows - 1:
            hit = self._ball_col == self._paddle_col
            reward = 1.0 if hit else -1.0
            self._caught += hit
            self._missed += not hit
            terminated = self._caught + self._missed == self.balls
        landed = self._ball_row == self.rows - 1 and not terminated
        if landed:
            self._drop_ball()  # the next ball is visible at once, so it can always be caught
        observation, info = self._observation(), self._info()
        if terminated:
            info["is_success"] = self._missed == 0
        if self.render_mode == "human":
            self.render()
        return observation, reward, terminated, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("Catch.render() called without a render_mode; pass render_mode='rgb_array' or 'human'.")
            return None
        image = np.broadcast_to(_BACKGROUND, (self.rows, self.cols, 3)).copy()
        image[self.rows - 1, self._paddle_col] = _PADDLE
        image[self._ball_row, self._ball_col] = _BALL
        frame = upscale(image, 32)
        return self._window.present(frame, self.render_mode)

    def close(self) -> None:
        self._window.close()
