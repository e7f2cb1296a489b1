"""The on-policy rollout buffer: preallocated (T, N) arrays, GAE, and minibatches of samples or whole sequences.

Vector envs autoreset in NEXT_STEP mode: where step t ends an episode (terminated or truncated), the
observation stored at step t + 1 is that episode's true final observation and step t + 1's action is
ignored by the env. So values[t + 1] is V(final observation): GAE bootstraps a truncation from it and a
termination from nothing, and step t + 1 is marked invalid (`valid` False) so it never enters a loss.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from gymforge.agents.actor_critic import map_state


def map_observations(observations: Any, function: Any) -> Any:
    """Apply `function` to an observation batch: one array/tensor, or each of a Dict observation's."""
    if isinstance(observations, dict):
        return {key: function(value) for key, value in observations.items()}
    return function(observations)


def map_arrays(tree: Any, function: Any) -> Any:
    """Apply `function` to the arrays (or tensors) of a nested dict; numbers pass through."""
    if isinstance(tree, dict):
        return {key: map_arrays(value, function) for key, value in tree.items()}
    return function(tree) if isinstance(tree, (np.ndarray, torch.Tensor)) else tree


def observation_layout(space: Any) -> tuple[Any, Any]:
    """(shape, dtype) for a buffer: a Box's own, or for a Dict space a {key: (shape, dtype)} shape and None."""
    if isinstance(space, gym.spaces.Dict):
        return {key: (part.shape, part.dtype) for key, part in space.spaces.items()}, None
    return space.shape, space.dtype


def zeros_observations(prefix: tuple[int, ...], shape: Any, dtype: Any) -> Any:
    """Preallocated observations: one array (*prefix, *shape), or a dict of them for a Dict layout."""
    if isinstance(shape, dict):
        return {key: np.zeros((*prefix, *part_shape), dtype=part_dtype)
                for key, (part_shape, part_dtype) in shape.items()}
    return np.zeros((*prefix, *shape), dtype=dtype)


def write_observations(store: Any, index: Any, observations: Any) -> None:
    """store[index] = observations, per key for Dict observations."""
    if isinstance(store, dict):
        for key, array in store.items():
            array[index] = observations[key]
    else:
        store[index] = observations


class Minibatch(NamedTuple):
    """Flat samples (B, ...) for feed-forward policies, or whole sequences (T, B, ...) for recurrent ones."""

    observations: torch.Tensor
    actions: torch.Tensor
    old_log_probs: torch.Tensor  # (B,) or (T * B,)
    old_values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    mask: torch.Tensor | None  # sequences only: 1 for valid steps, 0 for reset steps; (T * B,)
    episode_starts: torch.Tensor | None  # sequences only: (T, B)
    initial_state: Any  # sequences only: the memory state entering step 0 for these envs


class RolloutBuffer:
    """n_steps x n_envs transitions; numpy arrays for cheap writes, torch views of the same memory for updates."""

    def __init__(self, n_steps: int, n_envs: int, observation_shape: Any, observation_dtype: Any,
                 action_shape: tuple[int, ...], action_dtype: Any, device: torch.device | str = "cpu") -> None:
        """`observation_shape` is a shape, or for Dict observations {key: (shape, dtype)} (observation_layout)."""
        shape = (n_steps, n_envs)
        self.n_steps, self.n_envs, self.device = n_steps, n_envs, torch.device(device)
        self.observations = zeros_observations(shape, observation_shape, observation_dtype)
        self.actions = np.zeros((*shape, *action_shape), dtype=action_dtype)
        self.log_probs = np.zeros(shape, dtype=np.float32)
        self.values = np.zeros(shape, dtype=np.float32)
        self.rewards = np.zeros(shape, dtype=np.float32)
        self.terminated = np.zeros(shape, dtype=bool)
        self.truncated = np.zeros(shape, dtype=bool)
        self.valid = np.ones(shape, dtype=bool)  # False for the reset step after an episode end
        self.episode_starts = np.zeros(shape, dtype=np.float32)  # 1 where observations[t] starts an episode
        self.advantages = np.zeros(shape, dtype=np.float32)
        self.returns = np.zeros(shape, dtype=np.float32)
        self.initial_state: Any = ()

    def compute_gae(self, last_values: np.ndarray, gamma: float, gae_lambda: float) -> None:
        """Generalized advantage estimates and returns (advantages + values) for every valid step.

        delta_t = r_t + gamma * V_{t+1} * (1 - terminated_t) - V_t, where V_{t+1} is the next stored value
        (last_values after the last step); A_t = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}.
        """
        next_values = last_values.astype(np.float32)
        next_advantage = np.zeros(self.n_envs, dtype=np.float32)
        for t in reversed(range(self.n_steps)):
            delta = self.rewards[t] + gamma * next_values * ~self.terminated[t] - self.values[t]
            continues = ~(self.terminated[t] | self.truncated[t])
            advantage = delta + gamma * gae_lambda * continues * next_advantage
            advantage *= self.valid[t]
            self.advantages[t] = advantage
            next_values, next_advantage = self.values[t], advantage
        self.returns[:] = self.advantages + self.values

    # ---- minibatches --------------------------------------------------------------------------------
    def _tensor(self, array: Any) -> Any:
        return map_observations(array, lambda a: torch.from_numpy(a).to(self.device))

    def samples(self, n_minibatches: int, rng: np.random.Generator) -> Iterator[Minibatch]:
        """Shuffled minibatches of valid steps (reset steps left out), for feed-forward policies."""
        valid = np.flatnonzero(self.valid.reshape(-1))
        flat = {name: map_observations(self._tensor(getattr(self, name)), lambda t: t.flatten(0, 1))  # (T * N, ...)
                for name in ("observations", "actions", "log_probs", "values", "advantages", "returns")}
        for indices in np.array_split(rng.permutation(valid), n_minibatches):
            index = torch.from_numpy(indices).to(self.device)
            yield Minibatch(map_observations(flat["observations"], lambda t, index=index: t[index]),
                            flat["actions"][index], flat["log_probs"][index],
                            flat["values"][index], flat["advantages"][index], flat["returns"][index],
                            None, None, ())

    def sequences(self, n_minibatches: int, rng: np.random.Generator) -> Iterator[Minibatch]:
        """Minibatches of whole env columns (T, envs_per_batch) with their initial memory state, for
        recurrent policies; reset steps stay in the sequence and are masked out of the losses."""
        for columns in np.array_split(rng.permutation(self.n_envs), n_minibatches):
            index = torch.from_numpy(columns).to(self.device)
            pick = {name: map_observations(self._tensor(getattr(self, name)),  # (T, b, ...)
                                           lambda t, index=index: t.index_select(1, index))
                    for name in ("observations", "actions", "log_probs", "values", "advantages", "returns", "valid")}
            yield Minibatch(pick["observations"], pick["actions"].flatten(0, 1), pick["log_probs"].flatten(),
                            pick["values"].flatten(), pick["advantages"].flatten(), pick["returns"].flatten(),
                            pick["valid"].flatten().float(),
                            self._tensor(self.episode_starts).index_select(1, index),
                            map_state(self.initial_state, lambda s, index=index: s.index_select(1, index)))
