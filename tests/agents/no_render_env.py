"""A vector-observation env that cannot render: what the world model must refuse (module:EnvId for the CLI)."""

import gymnasium as gym
import numpy as np


class NoRenderEnv(gym.Env):
    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(self, render_mode=None):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(3, np.float32), {}

    def step(self, action):
        return np.zeros(3, np.float32), 0.0, True, False, {}


if "NoRender-v0" not in gym.registry:
    gym.register("NoRender-v0", entry_point=NoRenderEnv)
