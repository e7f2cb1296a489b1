"""T-maze: a cue shown only at the first step must be remembered down a corridor to choose the right arm.

No memoryless policy can beat chance: the observation at the junction is the same whatever the cue was.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError
from gymforge.envs.rendering import PygameWindow, upscale
from gymnasium import spaces

_WALL = np.array([20, 20, 30], dtype=np.uint8)
_FLOOR = np.array([90, 90, 100], dtype=np.uint8)
_AGENT = np.array([250, 210, 60], dtype=np.uint8)
_CUES = (np.array([60, 120, 240], dtype=np.uint8), np.array([240, 140, 40], dtype=np.uint8))
_RIGHT_CHOICE = np.array([60, 200, 90], dtype=np.uint8)
_WRONG_CHOICE = np.array([220, 50, 50], dtype=np.uint8)


class TMazeEnv(gym.Env):
    """Walk down a corridor of `length` cells and turn left or right at the end, as the first observation said.

    Observation (float32, 3): [cue says left, cue says right, at the junction]; the cue bits are set only in
    the first observation, the junction bit only at the end of the corridor. Actions: 0 = left, 1 = right;
    in the corridor any action walks one cell forward. Reward at the junction: +1 for the cued arm, -1 for
    the other, and the episode terminates with `is_success` in its info. An episode lasts `length + 2` steps.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "human"], "render_fps": 4}

    def __init__(self, length: int = 5, render_mode: str | None = None):
        if length < 1:
            raise EnvError(f"The T-maze corridor needs at least one cell, got length={length}.")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise EnvError(f"TMaze render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}.")
        self.length = length
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self._window = PygameWindow("gymforge T-maze", self.metadata["render_fps"])  # opens on first human frame
        self._cue = 0
        self._position = 0  # 0 = start (cue visible), 1..length = corridor, length + 1 = junction
        self._choice: int | None = None

    def _observation(self) -> np.ndarray:
        observation = np.zeros(3, dtype=np.float32)
        if self._position == 0:
            observation[self._cue] = 1.0
        elif self._position == self.length + 1:
            observation[2] = 1.0
        return observation

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._cue = int(self.np_random.integers(2))
        self._position = 0
        self._choice = None
        if self.render_mode == "human":
            self.render()
        return self._observation(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise EnvError(f"TMaze actions are 0 (left) or 1 (right), got {action!r}.")
        if self._choice is not None:
            raise EnvError("The T-maze episode is over; call reset() before step().")
        reward, terminated, info = 0.0, False, {}
        if self._position <= self.length:
            self._position += 1
        else:
            self._choice = int(action)
            success = self._choice == self._cue
            reward, terminated = (1.0 if success else -1.0), True
            info["is_success"] = success
        if self.render_mode == "human":
            self.render()
        return self._observation(), reward, terminated, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("TMaze.render() called without a render_mode; pass render_mode='rgb_array' or 'human'.")
            return None
        junction = self.length + 1
        image = np.broadcast_to(_WALL, (3, junction + 1, 3)).copy()
        image[1, :] = _FLOOR
        image[0, junction] = image[2, junction] = _FLOOR
        if self._position == 0:
            image[1, 0] = _CUES[self._cue]
        if self._choice is None:
            image[1, self._position] = _AGENT
        else:
            arm = 0 if self._choice == 0 else 2
            image[arm, junction] = _RIGHT_CHOICE if self._choice == self._cue else _WRONG_CHOICE
        frame = upscale(image, 32)
        return self._window.present(frame, self.render_mode)

    def close(self) -> None:
        self._window.close()
