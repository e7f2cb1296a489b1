"""Small synthetic environments covering the observation and action spaces users bring (importing this module
registers them as conformance/NAME-v0, so the CLI takes `--env tests.agents.conformance_envs:conformance/NAME-v0`).

Each is a contextual bandit over EPISODE_LENGTH steps: a fresh random observation every step, and a reward of 1
when the action is the one the observation calls for (`target`), so a learner's progress is easy to read.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

EPISODE_LENGTH = 8
MODULE = "tests.agents.conformance_envs"


class BanditEnv(gym.Env):
    """Base: subclasses define the spaces, `sample()` (an observation and its target) and `reward(action)`."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}
    observation_space: gym.Space
    action_space: gym.Space = spaces.Discrete(2)

    def __init__(self, render_mode: str | None = None) -> None:
        self.render_mode = render_mode
        self.t = 0

    def sample(self) -> tuple[Any, Any]:
        observation = self.observation_space.sample()
        return observation, 0

    def reward(self, action: Any) -> float:
        return float(np.array_equal(np.asarray(action), np.asarray(self.target)))

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        if seed is not None:
            self.observation_space.seed(seed)
        self.t = 0
        self.observation, self.target = self.sample()
        return self.observation, self.info()

    def info(self) -> dict:
        return {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        assert self.action_space.contains(action), f"{action!r} is not in {self.action_space}"
        reward = self.reward(action)
        self.t += 1
        self.observation, self.target = self.sample()
        return self.observation, reward, False, self.t >= EPISODE_LENGTH, self.info()

    def render(self) -> np.ndarray:
        frame = np.zeros((16, 16, 3), dtype=np.uint8)
        frame[:, : 2 * self.t] = 200
        return frame


class Float64BoxEnv(BanditEnv):
    """float64 observations with infinite bounds (MuJoCo-like); target: is the first feature positive."""

    observation_space = spaces.Box(-np.inf, np.inf, (4,), np.float64)

    def sample(self) -> tuple[Any, Any]:
        observation = self.np_random.normal(size=4)
        return observation, int(observation[0] > 0)


class Box2DEnv(BanditEnv):
    """A 5x5 table of float32 features (highway-env-like); target: is the corner feature positive."""

    observation_space = spaces.Box(-1.0, 1.0, (5, 5), np.float32)

    def sample(self) -> tuple[Any, Any]:
        observation = self.np_random.uniform(-1, 1, (5, 5)).astype(np.float32)
        return observation, int(observation[0, 0] > 0)


def bright_half_image(rng: np.random.Generator, shape: tuple[int, int, int], channel_last: bool) -> tuple:
    """A uint8 image whose left or right half is bright, and which (1 = right)."""
    side = int(rng.integers(2))
    height, width = (shape[0], shape[1]) if channel_last else (shape[1], shape[2])
    image = rng.integers(0, 40, shape, dtype=np.uint8)
    columns = slice(width // 2, width) if side else slice(0, width // 2)
    if channel_last:
        image[:, columns, :] = 220
    else:
        image[:, :, columns] = 220
    return image, side


class ChannelLastImageEnv(BanditEnv):
    """(12, 12, 3) uint8 pixels, channel-last like CarRacing; target: the bright half."""

    observation_space = spaces.Box(0, 255, (12, 12, 3), np.uint8)

    def sample(self) -> tuple[Any, Any]:
        return bright_half_image(self.np_random, (12, 12, 3), channel_last=True)


class ChannelFirstImageEnv(BanditEnv):
    """(3, 12, 12) uint8 pixels, channel-first; target: the bright half."""

    observation_space = spaces.Box(0, 255, (3, 12, 12), np.uint8)

    def sample(self) -> tuple[Any, Any]:
        return bright_half_image(self.np_random, (3, 12, 12), channel_last=False)


class DictEnv(BanditEnv):
    """MiniGrid-like Dict: a channel-last image, a vector, a Discrete direction and a Text mission. The target
    needs both the image and the vector: the bright half (0/1) XOR the sign of the vector's first feature."""

    observation_space = spaces.Dict({
        "image": spaces.Box(0, 255, (8, 8, 3), np.uint8),
        "vector": spaces.Box(-1.0, 1.0, (3,), np.float32),
        "direction": spaces.Discrete(4),
        "mission": spaces.Text(max_length=16),
    })

    def sample(self) -> tuple[Any, Any]:
        image, side = bright_half_image(self.np_random, (8, 8, 3), channel_last=True)
        vector = self.np_random.uniform(-1, 1, 3).astype(np.float32)
        observation = {"image": image, "vector": vector, "direction": int(self.np_random.integers(4)),
                       "mission": "gotoball"}
        return observation, side ^ int(vector[0] > 0)


class TupleEnv(BanditEnv):
    """Tuple(Box(3), Discrete(3)); target: is the Discrete part 2."""

    observation_space = spaces.Tuple((spaces.Box(-1.0, 1.0, (3,), np.float32), spaces.Discrete(3)))

    def sample(self) -> tuple[Any, Any]:
        part = int(self.np_random.integers(3))
        return (self.np_random.uniform(-1, 1, 3).astype(np.float32), part), int(part == 2)


class DiscreteTupleEnv(BanditEnv):
    """Tuple(Discrete(3), Discrete(4, start=1)), a product of discrete parts (Blackjack-like); target: first == 2."""

    observation_space = spaces.Tuple((spaces.Discrete(3), spaces.Discrete(4, start=1)))

    def sample(self) -> tuple[Any, Any]:
        first = int(self.np_random.integers(3))
        return (first, int(self.np_random.integers(1, 5))), int(first == 2)


class MultiBinaryActionEnv(BanditEnv):
    """MultiBinary(3) actions: the target is the sign pattern of the three features."""

    observation_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
    action_space = spaces.MultiBinary(3)

    def sample(self) -> tuple[Any, Any]:
        observation = self.np_random.uniform(-1, 1, 3).astype(np.float32)
        return observation, (observation > 0).astype(np.int8)


class DiscreteStartEnv(BanditEnv):
    """Discrete(3, start=1) actions (1, 2 or 3): the target is 1 + the index of the largest feature."""

    observation_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
    action_space = spaces.Discrete(3, start=1)

    def sample(self) -> tuple[Any, Any]:
        observation = self.np_random.uniform(-1, 1, 3).astype(np.float32)
        return observation, 1 + int(np.argmax(observation))


class UnboundedBoxActionEnv(BanditEnv):
    """Box(-inf, inf, (2,)) actions: reward is minus the squared distance to the observation's first two features
    (no clipping can happen, so the Gaussian must stay sane on its own)."""

    observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = spaces.Box(-np.inf, np.inf, (2,), np.float32)

    def sample(self) -> tuple[Any, Any]:
        observation = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        return observation, observation

    def reward(self, action: Any) -> float:
        return -float(np.sum((np.asarray(action) - self.target) ** 2))


class MaskedEnv(BanditEnv):
    """Discrete(4) actions, of which a random two are legal at each step, announced only in info["action_mask"]
    (the Gymnasium/PettingZoo convention). A legal action earns 1, the target (legal action 0 or 1, whichever
    the first feature's sign picks) earns 2; an illegal one ends the episode with -1 and counts in
    info["illegal_actions"]."""

    observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = spaces.Discrete(4)

    def __init__(self, render_mode: str | None = None, expose_mask: bool = True) -> None:
        super().__init__(render_mode)
        self.expose_mask = expose_mask  # False: the same game without telling the agent which actions are legal

    def sample(self) -> tuple[Any, Any]:
        self.mask = np.zeros(4, dtype=np.int8)
        self.mask[self.np_random.choice(4, size=2, replace=False)] = 1
        observation = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        legal = np.flatnonzero(self.mask)
        return observation, int(legal[int(observation[0] > 0)])

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        self.illegal = 0
        return super().reset(seed=seed, options=options)

    def info(self) -> dict:
        info = {"illegal_actions": self.illegal}
        if self.expose_mask:
            info["action_mask"] = self.mask.copy()
        return info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        if not self.mask[int(action)]:
            self.illegal += 1
            self.t += 1
            return self.observation, -1.0, True, False, self.info()
        reward = 2.0 if int(action) == self.target else 1.0
        observation, _, terminated, truncated, info = super().step(action)
        return observation, reward, terminated, truncated, info


class GraphEnv(BanditEnv):
    """A Graph observation, which no encoder takes."""

    observation_space = spaces.Graph(node_space=spaces.Box(-1.0, 1.0, (2,)), edge_space=None)


ENVS = {cls.__name__.removesuffix("Env"): cls for cls in (
    Float64BoxEnv, Box2DEnv, ChannelLastImageEnv, ChannelFirstImageEnv, DictEnv, TupleEnv, DiscreteTupleEnv,
    MultiBinaryActionEnv, DiscreteStartEnv, UnboundedBoxActionEnv, MaskedEnv, GraphEnv)}


def env_id(name: str) -> str:
    """The id the CLI and the API take: importing the module registers the env."""
    return f"{MODULE}:conformance/{name}-v0"


for _name, _cls in ENVS.items():
    if f"conformance/{_name}-v0" not in gym.registry:
        gym.register(f"conformance/{_name}-v0", entry_point=_cls, max_episode_steps=EPISODE_LENGTH)
