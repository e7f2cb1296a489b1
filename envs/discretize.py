"""Discretize a Box observation into one Discrete state index, so tabular agents can learn continuous tasks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError


class DiscretizeObservation(gym.ObservationWrapper):
    """Uniform bins per dimension between clipping ranges; the state is the mixed-radix index of the bins.

    Values outside [low, high] fall into the edge bins. A dimension with 1 bin is ignored (useful for
    CartPole's cart position and velocity, which a good policy barely needs).
    """

    def __init__(self, env: gym.Env, bins: int | Sequence[int], low: Sequence[float] | None = None,
                 high: Sequence[float] | None = None) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise EnvError(f"the discretizer needs a flat Box observation space, got {space}")
        dims = space.shape[0]
        counts = np.full(dims, bins, dtype=np.int64) if np.isscalar(bins) else np.asarray(bins, dtype=np.int64)
        if counts.shape != (dims,) or (counts < 1).any():
            raise EnvError(f"--bins needs one positive count or {dims} of them (one per observation dimension), "
                           f"got {list(np.atleast_1d(bins))}")
        self.low = np.asarray(space.low if low is None or len(low) == 0 else low, dtype=np.float64)
        self.high = np.asarray(space.high if high is None or len(high) == 0 else high, dtype=np.float64)
        if self.low.shape != (dims,) or self.high.shape != (dims,):
            raise EnvError(f"--low and --high need {dims} values each (one per observation dimension)")
        unbounded = ~np.isfinite(self.low[counts > 1]) | ~np.isfinite(self.high[counts > 1])
        if unbounded.any():
            raise EnvError("the observation space is unbounded in some dimensions: give clipping ranges with "
                           f"--low and --high ({dims} values each), e.g. from typical observed values")
        if (self.high[counts > 1] <= self.low[counts > 1]).any():
            raise EnvError("each --high value must be greater than its --low value")
        self.bins = counts
        self.radix = np.concatenate([np.cumprod(counts[::-1])[::-1][1:], [1]]).astype(np.int64)
        self.observation_space = gym.spaces.Discrete(int(np.prod(counts)))

    def observation(self, observation: np.ndarray) -> int:
        width = np.where(self.bins > 1, self.high - self.low, 1.0)
        scaled = (np.asarray(observation, dtype=np.float64) - self.low) / width * self.bins
        index = np.clip(np.floor(scaled), 0, self.bins - 1).astype(np.int64)
        index[self.bins == 1] = 0
        return int(index @ self.radix)


MAX_TABLE_STATES = 10_000_000


def discrete_parts(space: gym.Space) -> list[tuple[str, int, int]] | None:
    """(name, size, start) of every discrete part of a Discrete/MultiDiscrete/MultiBinary or a Dict/Tuple of
    them, or None when some part is not discrete."""
    if isinstance(space, gym.spaces.Discrete):
        return [("", int(space.n), int(space.start))]
    if isinstance(space, gym.spaces.MultiDiscrete):
        starts = space.start.reshape(-1)
        return [(str(i), int(n), int(starts[i])) for i, n in enumerate(space.nvec.reshape(-1))]
    if isinstance(space, gym.spaces.MultiBinary):
        return [(str(i), 2, 0) for i in range(int(np.prod(space.shape)))]
    if isinstance(space, (gym.spaces.Dict, gym.spaces.Tuple)):
        named = space.spaces.items() if isinstance(space, gym.spaces.Dict) else enumerate(space.spaces)
        parts = []
        for key, part in named:
            inner = discrete_parts(part)
            if inner is None:
                return None
            parts += [(f"{key}.{name}".rstrip("."), size, start) for name, size, start in inner]
        return parts
    return None


class IndexProductSpace(gym.ObservationWrapper):
    """A Tuple/Dict/MultiDiscrete/MultiBinary observation of discrete parts as one Discrete state: the mixed-radix
    index of the parts in their product space (Blackjack's (32, 11, 2) becomes one of 704 states). `keys` keeps
    only those top-level keys of a Dict/Tuple; an "action_mask" key is left out of the state."""

    def __init__(self, env: gym.Env, keys: Sequence[str] = (), max_states: int = MAX_TABLE_STATES) -> None:
        super().__init__(env)
        space = env.observation_space
        self.keys = [key for key in (space.spaces if isinstance(space, gym.spaces.Dict) else
                                     [str(i) for i in range(len(space.spaces))]) if key != "action_mask"] \
            if isinstance(space, (gym.spaces.Dict, gym.spaces.Tuple)) else []
        if keys:
            unknown = sorted(set(keys) - set(self.keys))
            if unknown:
                raise EnvError(f"observation key(s) {', '.join(unknown)} not in the observation; its keys: "
                               f"{', '.join(self.keys)}")
            self.keys = [key for key in self.keys if key in keys]
        self.kept = self._kept(space)
        parts = discrete_parts(self.kept)
        if parts is None:
            raise EnvError(f"a table needs discrete observation parts, got {self.kept}")
        self.sizes = np.array([size for _, size, _ in parts], dtype=np.int64)
        self.starts = np.array([start for _, _, start in parts], dtype=np.int64)
        states = int(np.prod(self.sizes.astype(object)))  # exact, no overflow
        if states > max_states:
            raise EnvError(f"the product of the observation's parts ({' x '.join(map(str, self.sizes))} = {states:,} "
                           f"states) is too large for a table (at most {max_states:,}); choose fewer keys with "
                           "--observation-keys, or use dqn or ppo")
        self.radix = np.concatenate([np.cumprod(self.sizes[::-1])[::-1][1:], [1]]).astype(np.int64)
        self.observation_space = gym.spaces.Discrete(states)

    def _kept(self, space: gym.Space) -> gym.Space:
        if isinstance(space, gym.spaces.Dict):
            return gym.spaces.Dict({key: space[key] for key in self.keys})
        if isinstance(space, gym.spaces.Tuple):
            return gym.spaces.Tuple([space.spaces[int(key)] for key in self.keys])
        return space

    def _values(self, observation: Any, space: gym.Space) -> list[int]:
        if isinstance(space, gym.spaces.Dict):
            return [v for key, part in space.spaces.items() for v in self._values(observation[key], part)]
        if isinstance(space, gym.spaces.Tuple):
            return [v for item, part in zip(observation, space.spaces) for v in self._values(item, part)]
        return [int(v) for v in np.asarray(observation).reshape(-1)]

    def observation(self, observation: Any) -> int:
        raw = self.env.observation_space
        if len(self.keys) == 1 and isinstance(self.kept[self.keys[0]] if isinstance(raw, gym.spaces.Dict)
                                              else None, gym.spaces.Discrete):
            return int(observation[self.keys[0]]) - int(self.starts[0])  # e.g. Taxi's state beside its mask
        if isinstance(raw, gym.spaces.Dict):
            observation = {key: observation[key] for key in self.keys}
        elif isinstance(raw, gym.spaces.Tuple):
            observation = tuple(observation[int(key)] for key in self.keys)
        values = np.array(self._values(observation, self.kept), dtype=np.int64) - self.starts
        return int(values @ self.radix)
