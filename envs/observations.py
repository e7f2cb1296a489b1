"""The observation pipeline every neural agent shares: any Gymnasium observation space -> a few tensors a network
takes, and the wrapper that moves an action mask from `info` into the observation.

`PrepareObservation` turns an environment's observations into one *prepared* form (the agents' buffers,
encoders, evaluation and watch all see only that form):
- a 3-D uint8 `Box` is an image: channel-last (H, W, C) is moved to channel-first (C, H, W), as
  Stable-Baselines3's image-space check does (the smallest axis, first or last, is the channel axis), so frame
  stacks such as Atari's (4, 84, 84) stay as they are;
- any other `Box` (any dtype, any rank) is flattened to a float32 vector;
- `Discrete`, `MultiDiscrete` and `MultiBinary` become one-hot / binary float32 vectors;
- `Dict` and `Tuple` (nested too) keep every image as its own key and concatenate every other part into one
  "vector" key; an "action_mask" key passes through untouched; parts no encoder takes (Text, Graph,
  Sequence) are dropped with one printed line naming them. `keys` chooses the top-level keys to keep.
A single part comes out as a plain array, several as a dict of arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError
from gymnasium import spaces

MASK_KEY = "action_mask"
VECTOR_KEY = "vector"
NEURAL_OBSERVATIONS = ("dqn and ppo take Box (vectors of any rank and dtype, uint8 images), Discrete, "
                       "MultiDiscrete, MultiBinary, and Dict/Tuple of those; qlearning takes Discrete, and "
                       "Tuple/Dict/MultiDiscrete of discrete parts")
_VECTOR_KINDS = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def is_image_space(space: gym.Space) -> bool:
    """A 3-D uint8 Box whose smallest axis is its first or last (the channels): an image, either layout."""
    if not (isinstance(space, spaces.Box) and len(space.shape) == 3 and space.dtype == np.uint8):
        return False
    smallest = min(space.shape)
    return space.shape[0] == smallest or space.shape[-1] == smallest


def is_channel_last(space: gym.Space) -> bool:
    """An image whose last axis holds the channels (H, W, C), e.g. CarRacing's (96, 96, 3)."""
    return is_image_space(space) and space.shape[-1] < space.shape[0]


def vector_size(space: gym.Space) -> int:
    """Width of a part in the concatenated float vector (one-hot for discrete parts)."""
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    return int(np.prod(space.shape))  # MultiBinary


def vector_bounds(space: gym.Space) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(space, spaces.Box):
        return (space.low.astype(np.float32).reshape(-1), space.high.astype(np.float32).reshape(-1))
    size = vector_size(space)
    return np.zeros(size, np.float32), np.ones(size, np.float32)


def to_vector(space: gym.Space, value: Any) -> np.ndarray:
    """One part as float32: a flattened Box, a one-hot Discrete/MultiDiscrete, a binary MultiBinary."""
    if isinstance(space, spaces.Box):
        return np.asarray(value, dtype=np.float32).reshape(-1)
    if isinstance(space, spaces.Discrete):
        one_hot = np.zeros(int(space.n), np.float32)
        one_hot[int(value) - int(space.start)] = 1.0
        return one_hot
    if isinstance(space, spaces.MultiDiscrete):
        nvec, start = space.nvec.reshape(-1), getattr(space, "start", np.zeros_like(space.nvec)).reshape(-1)
        one_hot = np.zeros(int(nvec.sum()), np.float32)
        offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]])
        one_hot[offsets + np.asarray(value).reshape(-1) - start] = 1.0
        return one_hot
    return np.asarray(value, dtype=np.float32).reshape(-1)


def leaves(space: gym.Space, prefix: str = "") -> list[tuple[str, gym.Space]]:
    """(dotted path, space) of every part of a (nested) Dict/Tuple; Tuple positions are named 0, 1, ..."""
    if isinstance(space, spaces.Dict):
        return [leaf for key, part in space.spaces.items() for leaf in leaves(part, f"{prefix}{key}.")]
    if isinstance(space, spaces.Tuple):
        return [leaf for index, part in enumerate(space.spaces) for leaf in leaves(part, f"{prefix}{index}.")]
    return [(prefix.rstrip("."), space)]


def leaf_values(value: Any, space: gym.Space) -> list[Any]:
    """The values of `leaves(space)`, in the same order."""
    if isinstance(space, spaces.Dict):
        return [leaf for key, part in space.spaces.items() for leaf in leaf_values(value[key], part)]
    if isinstance(space, spaces.Tuple):
        return [leaf for part, item in zip(space.spaces, value) for leaf in leaf_values(item, part)]
    return [value]


_announced: set[str] = set()


def announce(message: str) -> None:
    """Print a message once per process (every copy of a vector env builds the same wrapper)."""
    if message not in _announced:
        _announced.add(message)
        print(message, flush=True)


def unsupported_space(space: gym.Space, env_id: str = "the environment") -> EnvError:
    return EnvError(f"no encoder takes the observation space {space} of {env_id}: {NEURAL_OBSERVATIONS}; "
                    "convert it with an observation wrapper first")


class PrepareObservation(gym.ObservationWrapper):
    """Observations in the prepared form (see the module docstring); `keys` keeps only those top-level keys of
    a Dict/Tuple observation (Tuple positions as "0", "1", ...), plus the action mask."""

    def __init__(self, env: gym.Env, keys: Sequence[str] = (), verbose: bool = True) -> None:
        super().__init__(env)
        raw = env.observation_space
        env_id = env.spec.id if env.spec else type(env.unwrapped).__name__
        self.raw_space, self.plan = raw, []  # plan: (leaf index, output key, kind) for images and the mask
        self.vector_leaves: list[int] = []
        if not isinstance(raw, (spaces.Dict, spaces.Tuple)):
            if keys:
                raise EnvError(f"observation keys {list(keys)} were chosen, but {env_id} has no Dict or Tuple "
                               f"observation ({raw})")
            if not isinstance(raw, _VECTOR_KINDS):
                raise unsupported_space(raw, env_id)
        parts = leaves(raw)
        if keys:
            top = [path.split(".")[0] for path, _ in parts]
            unknown = sorted(set(keys) - set(top))
            if unknown:
                raise EnvError(f"observation key(s) {', '.join(unknown)} not in {env_id}'s observation; its keys: "
                               f"{', '.join(dict.fromkeys(top))}")
        output: dict[str, gym.Space] = {}
        dropped, vector_low, vector_high = [], [], []
        for index, (path, part) in enumerate(parts):
            if path == MASK_KEY:
                self.plan.append((index, MASK_KEY, "mask"))
                output[MASK_KEY] = spaces.MultiBinary(vector_size(part) if isinstance(part, spaces.Discrete)
                                                      else int(np.prod(part.shape)))
            elif keys and path.split(".")[0] not in keys:
                continue
            elif is_image_space(part):
                kind = "channel_last" if is_channel_last(part) else "image"
                shape = part.shape[::-1][:1] + part.shape[:2] if kind == "channel_last" else part.shape
                self.plan.append((index, path or "image", kind))
                output[path or "image"] = spaces.Box(0, 255, shape, np.uint8)
            elif isinstance(part, _VECTOR_KINDS):
                self.vector_leaves.append(index)
                low, high = vector_bounds(part)
                vector_low.append(low)
                vector_high.append(high)
            else:
                dropped.append(f"{path or 'observation'} ({type(part).__name__})")
        if self.vector_leaves:
            output[VECTOR_KEY] = spaces.Box(np.concatenate(vector_low), np.concatenate(vector_high),
                                            dtype=np.float32)
        if dropped and verbose:
            announce(f"gymforge: dropping observation part(s) no encoder takes: {', '.join(dropped)}")
        if not [key for key in output if key != MASK_KEY]:
            raise unsupported_space(raw, env_id)
        self.parts = parts
        self.single = len(output) == 1
        self.output_key = next(iter(output))
        self.observation_space = output[self.output_key] if self.single else spaces.Dict(output)

    def observation(self, observation: Any) -> Any:
        values = leaf_values(observation, self.raw_space)
        prepared: dict[str, np.ndarray] = {}
        for index, key, kind in self.plan:
            value = np.asarray(values[index])
            if kind == "channel_last":
                value = np.ascontiguousarray(np.moveaxis(value, -1, 0))
            elif kind == "mask":
                value = value.astype(np.int8).reshape(-1)
            prepared[key] = value
        if self.vector_leaves:
            prepared[VECTOR_KEY] = np.concatenate([to_vector(self.parts[i][1], values[i]) for i in self.vector_leaves])
        return prepared[self.output_key] if self.single else prepared


class ActionMaskInObservation(gym.Wrapper):
    """Moves `info["action_mask"]` (the Gymnasium/PettingZoo convention) into the observation, which becomes a
    Dict {"observation": ..., "action_mask": ...} (a Dict observation gains the key), so masks travel with the
    observations through vector envs, buffers and evaluation loops."""

    def __init__(self, env: gym.Env, mask_size: int) -> None:
        super().__init__(env)
        inner = env.observation_space
        mask_space = spaces.MultiBinary(mask_size)
        if isinstance(inner, spaces.Dict):
            self.observation_space = spaces.Dict({**inner.spaces, MASK_KEY: mask_space})
        else:
            self.observation_space = spaces.Dict({"observation": inner, MASK_KEY: mask_space})

    def _with_mask(self, observation: Any, info: dict[str, Any]) -> Any:
        mask = np.asarray(info.get(MASK_KEY, np.ones(self.observation_space[MASK_KEY].n)), dtype=np.int8)
        if isinstance(observation, dict):
            return {**observation, MASK_KEY: mask}
        return {"observation": observation, MASK_KEY: mask}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(**kwargs)
        return self._with_mask(observation, info), info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return self._with_mask(observation, info), reward, terminated, truncated, info


def observation_mask(observation: Any) -> np.ndarray | None:
    """The action mask of a prepared (or raw Dict) observation, or None."""
    return observation.get(MASK_KEY) if isinstance(observation, dict) else None
