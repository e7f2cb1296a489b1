"""CartPole with its velocities hidden: the standard partially observable check for recurrent agents."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

_KEPT = np.array([0, 2])  # CartPole observes [cart position, cart velocity, pole angle, pole angular velocity]


class CartPoleNoVelocityEnv(CartPoleEnv):
    """Gymnasium's CartPole (same dynamics, +1 per step, 500-step limit when registered) seeing positions only.

    The observation is [cart position, pole angle]; velocities must be inferred from successive observations.
    """

    def __init__(self, render_mode: str | None = None, **kwargs):
        super().__init__(render_mode=render_mode, **kwargs)
        full = self.observation_space
        self.observation_space = spaces.Box(full.low[_KEPT], full.high[_KEPT], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        observation, info = super().reset(seed=seed, options=options)
        return observation[_KEPT], info

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        observation, reward, terminated, truncated, info = super().step(action)
        return observation[_KEPT], reward, terminated, truncated, info
