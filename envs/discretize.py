"""Discretize a Box observation into one Discrete state index, so tabular agents can learn continuous tasks."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from envs.errors import EnvError


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
