"""The observation pipeline every neural agent shares: any Gymnasium observation space -> a few tensors a network
takes, and the wrapper that moves an action mask from `info` into the observation.

`PrepareObservation` turns an environment's observations into one *prepared* form (the agents' buffers,
encoders, evaluation and watch all see only that form):
- a `Box` that `image_layout` calls an image becomes a channel-first (C, H, W) uint8 image, whatever its
  layout (channel-last (H, W, C), grey (H, W), frame stacks (k, H, W) or (H, W, k));
- any other `Box` (any dtype, any rank) is flattened to a float32 vector (a uint8 0-255 Box of rank 2 or more
  that is not an image gets one printed line saying why);
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


def image_layout(space: gym.Space) -> str | None:
    """"CHW", "HWC" or "HW" for an image Box, None for anything else: the one rule every path (PPO, DQN, the
    world model, the encoders, the pixel wrappers) asks, so no two paths read one space differently.

    An image is a uint8 Box with bounds exactly 0 and 255 (a uint8 Box bounded 0-1 is a binary vector, not
    pixels to divide by 255) whose channel axis can be told:
    - 3-D: the channel axis is the first or the last, whichever is strictly smaller than both other axes:
      (4, 84, 84) and (1, 10, 10) are "CHW", (96, 96, 3) and (84, 84, 4) are "HWC", (4, 84, 2) is "HWC" (2
      channels of 4x84). (3, 64, 3) or (10, 10, 10) have no such axis: not an image.
    - 2-D (H, W) is one grey channel, (1, H, W) by the same rule (grayscale wrappers drop the channel axis),
      so both sides must exceed 1.
    A frame stack is an image when its stacked axis (k, or k times the channels) is smaller than each side.
    """
    return _image_rule(space)[0]


def _image_rule(space: gym.Space) -> tuple[str | None, str]:
    """(layout, why it is not an image) by `image_layout`'s rule."""
    if not isinstance(space, spaces.Box) or space.dtype != np.uint8:
        return None, "not a uint8 Box"
    if len(space.shape) not in (2, 3):
        return None, f"{len(space.shape)}-D, not (H, W) or 3-D"
    if not (np.all(space.low == 0) and np.all(space.high == 255)):
        return None, f"its bounds are {space.low.min()} to {space.high.max()}, not 0 to 255"
    shape = (1, *space.shape) if len(space.shape) == 2 else space.shape
    first, middle, last = shape
    if first < middle and first < last:
        return ("HW" if len(space.shape) == 2 else "CHW"), ""
    if last < first and last < middle:
        return "HWC", ""
    if len(space.shape) == 2:
        return None, "a grey (H, W) image needs both sides above 1"
    return None, f"no axis of {space.shape}, first or last, is smaller than the other two, so no channel axis can be told"


def is_image_space(space: gym.Space) -> bool:
    """An image by `image_layout`'s rule, in any layout."""
    return image_layout(space) is not None


def channel_first_shape(space: gym.Space) -> tuple[int, int, int]:
    """The (C, H, W) shape an image space has once `to_channel_first` has moved its axes."""
    return to_channel_first(np.zeros(space.shape, np.uint8), image_layout(space)).shape


def to_channel_first(image: np.ndarray, layout: str | None) -> np.ndarray:
    """An image (or a batch of them, the leading axes kept) in `layout` as (..., C, H, W)."""
    image = np.asarray(image)
    if layout == "HW":
        return image[..., None, :, :]
    if layout == "HWC":
        return np.ascontiguousarray(np.moveaxis(image, -1, -3))
    return image


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
                self.plan.append((index, path or "image", image_layout(part)))
                output[path or "image"] = spaces.Box(0, 255, channel_first_shape(part), np.uint8)
            elif isinstance(part, _VECTOR_KINDS):
                if verbose and isinstance(part, spaces.Box) and part.dtype == np.uint8 and len(part.shape) > 1:
                    why = _image_rule(part)[1]
                    announce(f"gymforge: the uint8 observation {path + ' ' if path else ''}of shape {part.shape} is not "
                             f"read as an image ({why}); it is flattened into a vector for an MLP")
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
            if kind == "mask":
                value = value.astype(np.int8).reshape(-1)
            else:
                value = to_channel_first(value, kind)
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
