"""Replay buffers for off-policy agents: preallocated numpy rings, each frame stored once, n-step, prioritized.

Every sub-environment of a vector env writes its own stream of *frames*. A frame is a whole observation, or,
for stacked images (Atari's (4, 84, 84)), only the newest image of the stack. An episode starts by writing the
`frame_stack` frames of its first observation; each step then writes one frame, the newest of the next
observation, so the observation of transition t is frames t-k+1..t and its next observation frames
t-k+2..t+1. Nothing is stored twice: no separate next-observation array, no copy per stacked frame, uint8
images stay uint8 (a 1M-step Atari buffer is 1M x 84 x 84 bytes, about 7 GB). An episode's true final
observation is a frame like any other, so a time-limit truncation bootstraps from it; only `terminated`
stops bootstrapping.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from gymforge.agents.rollout import map_observations, write_observations, zeros_observations


class ReplaySample(NamedTuple):
    """A batch of (n-step) transitions; `discounts` is gamma**m for the m rewards summed into `rewards`."""

    observations: np.ndarray  # (B, *obs_shape)
    actions: np.ndarray  # (B,) int64
    rewards: np.ndarray  # (B,) float32, discounted sum of up to n rewards
    next_observations: np.ndarray  # (B, *obs_shape), the observation m steps later
    dones: np.ndarray  # (B,) float32, 1 when the episode terminated within the m steps
    discounts: np.ndarray  # (B,) float32, gamma**m
    weights: np.ndarray  # (B,) float32 importance weights (ones without prioritization)
    indices: np.ndarray  # (B,) int64 flat slot indices, for update_priorities


class SumTree:
    """A binary tree whose leaves are priorities and inner nodes their sums: O(log N) proportional sampling."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.leaves = 1 << max(capacity - 1, 1).bit_length()  # a power of two >= capacity
        self.tree = np.zeros(2 * self.leaves, dtype=np.float64)  # node i has children 2i and 2i+1; root is 1

    @property
    def total(self) -> float:
        return float(self.tree[1])

    def __getitem__(self, indices: np.ndarray) -> np.ndarray:
        return self.tree[np.asarray(indices) + self.leaves]

    def update(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Set leaves and recompute their ancestors, one tree level per vectorized step."""
        nodes = np.asarray(indices, dtype=np.int64) + self.leaves
        if len(nodes) == 0:
            return
        self.tree[nodes] = priorities
        nodes = np.unique(nodes // 2)
        while nodes[0] >= 1:
            self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes + 1]
            if nodes[0] == 1:
                break
            nodes = np.unique(nodes // 2)

    def find(self, values: np.ndarray) -> np.ndarray:
        """Leaf index for each value in [0, total): the leaf whose priority interval holds it."""
        values = np.array(values, dtype=np.float64)
        nodes = np.ones(len(values), dtype=np.int64)
        while nodes[0] < self.leaves:
            left = self.tree[2 * nodes]
            go_right = values >= left
            values -= left * go_right
            nodes = 2 * nodes + go_right
        return nodes - self.leaves


class ReplayBuffer:
    """Uniform (or, with `alpha` set, prioritized) replay over `n_envs` streams of frames.

    `capacity` counts frames (about one per transition), split evenly between the sub-environments. Slot
    (e, i) holds frame i of stream e and the transition that starts at that frame, once its next frame exists.
    """

    def __init__(self, capacity: int, observation_shape: Any, observation_dtype: Any, n_envs: int = 1,
                 frame_stack: int = 1, n_step: int = 1, gamma: float = 0.99, alpha: float | None = None,
                 seed: int = 0) -> None:
        """`observation_shape`: a shape, or {key: (shape, dtype)} for Dict observations (one frame each)."""
        self.slots = capacity // n_envs  # per stream
        if self.slots < frame_stack + n_step + 1:
            raise ValueError(f"a buffer of {capacity} frames over {n_envs} envs is too small for "
                             f"frame_stack={frame_stack} and n_step={n_step}")
        self.n_envs, self.frame_stack, self.n_step, self.gamma = n_envs, frame_stack, n_step, gamma
        if isinstance(observation_shape, dict):
            if frame_stack > 1:
                raise ValueError("Dict observations are stored whole, without frame-stack sharing")
            self.observation_shape = observation_shape
            self.frames = zeros_observations((n_envs, self.slots), observation_shape, None)
        else:
            self.observation_shape = tuple(observation_shape)
            frame_shape = self.observation_shape[1:] if frame_stack > 1 else self.observation_shape
            self.frames = np.zeros((n_envs, self.slots, *frame_shape), dtype=observation_dtype)
        self.actions = np.zeros((n_envs, self.slots), dtype=np.int64)
        self.rewards = np.zeros((n_envs, self.slots), dtype=np.float32)
        self.terminated = np.zeros((n_envs, self.slots), dtype=bool)
        self.valid = np.zeros((n_envs, self.slots), dtype=bool)  # a complete transition starts at this slot
        self.written = np.zeros(n_envs, dtype=np.int64)  # frames ever written per stream (absolute position)
        self.alpha = alpha
        self.tree = SumTree(n_envs * self.slots) if alpha is not None else None
        self.max_priority = 1.0
        self.rng = np.random.default_rng(seed)
        self.env_index = np.arange(n_envs)

    def __len__(self) -> int:
        """Complete transitions held."""
        return int(self.valid.sum())

    # ---- writing ------------------------------------------------------------------------------------
    def _write_frames(self, envs: np.ndarray, frames: np.ndarray) -> None:
        """Append one frame per listed stream; transitions whose stacks used the overwritten frames end."""
        position = self.written[envs]
        for offset in range(self.frame_stack):  # old transitions at slots p..p+k-1 reached back to this frame
            self._invalidate(envs, (position + offset) % self.slots)
        write_observations(self.frames, (envs, position % self.slots), frames)
        self.written[envs] += 1

    def _invalidate(self, envs: np.ndarray, slots: np.ndarray) -> None:
        if self.tree is not None:
            was_valid = self.valid[envs, slots]
            if was_valid.any():
                self.tree.update(envs[was_valid] * self.slots + slots[was_valid], np.zeros(int(was_valid.sum())))
        self.valid[envs, slots] = False

    def start(self, envs: np.ndarray, observations: np.ndarray) -> None:
        """First observations (E', *obs_shape) of new episodes in the listed streams: all their stacked frames."""
        envs = np.asarray(envs, dtype=np.int64)
        if self.frame_stack == 1:
            self._write_frames(envs, observations)
            return
        for index in range(self.frame_stack):
            self._write_frames(envs, observations[:, index])

    def add(self, actions: np.ndarray, rewards: np.ndarray, terminated: np.ndarray, next_observations: np.ndarray,
            mask: np.ndarray | None = None) -> None:
        """One step of every stream (or of those where `mask` is true): the transition from the last frame."""
        if mask is not None and not mask.all():
            envs = np.flatnonzero(mask)
            actions, rewards, terminated = actions[envs], rewards[envs], terminated[envs]
            next_observations = map_observations(next_observations, lambda array: array[envs])
        else:
            envs = self.env_index
        if len(envs) == 0:
            return
        slots = (self.written[envs] - 1) % self.slots
        self.actions[envs, slots] = actions
        self.rewards[envs, slots] = rewards
        self.terminated[envs, slots] = terminated
        self._write_frames(envs, next_observations[:, -1] if self.frame_stack > 1 else next_observations)
        self.valid[envs, slots] = True
        if self.tree is not None:
            self.tree.update(envs * self.slots + slots, np.full(len(envs), self.max_priority ** self.alpha))

    # ---- sampling -----------------------------------------------------------------------------------
    def _uniform_indices(self, batch_size: int) -> np.ndarray:
        """Flat slot indices of valid transitions, uniformly: sample among written slots, redraw the invalid."""
        filled = np.minimum(self.written, self.slots)
        if not self.valid.any():
            raise ValueError("the replay buffer holds no complete transition yet")
        indices = np.empty(batch_size, dtype=np.int64)
        todo = np.arange(batch_size)
        while len(todo):
            envs = self.rng.choice(self.n_envs, len(todo), p=filled / filled.sum()) if self.n_envs > 1 else 0
            slots = (self.rng.random(len(todo)) * filled[envs]).astype(np.int64)
            indices[todo] = envs * self.slots + slots
            todo = todo[~self.valid.reshape(-1)[indices[todo]]]
        return indices

    def _stack(self, envs: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Observations ending at absolute frame positions: (B, *obs_shape)."""
        if self.frame_stack == 1:
            return map_observations(self.frames, lambda frames: frames[envs, positions % self.slots])
        offsets = np.arange(1 - self.frame_stack, 1)
        return self.frames[envs[:, None], (positions[:, None] + offsets) % self.slots]  # (B, k, H, W)

    def sample(self, batch_size: int, beta: float = 0.4) -> ReplaySample:
        """A batch of n-step transitions; prioritized buffers sample by priority with importance weights."""
        if self.tree is None:
            indices = self._uniform_indices(batch_size)
            weights = np.ones(batch_size, dtype=np.float32)
        else:
            total = self.tree.total
            if total <= 0:
                raise ValueError("the replay buffer holds no complete transition yet")
            values = (np.arange(batch_size) + self.rng.random(batch_size)) * (total / batch_size)  # stratified
            indices = self.tree.find(np.minimum(values, np.nextafter(total, 0)))
            priorities = self.tree[indices]
            bad = priorities <= 0  # float round-off at an interval edge: take a valid neighbour's place
            if bad.any():
                indices[bad] = self._uniform_indices(int(bad.sum()))
                priorities = self.tree[indices]
            held = np.minimum(self.written, self.slots).sum()  # about the transitions held, without a scan
            weights = (held * priorities / total) ** -beta
            weights = (weights / weights.max()).astype(np.float32)
        return self.transitions(indices, weights)

    def transitions(self, indices: np.ndarray, weights: np.ndarray | None = None) -> ReplaySample:
        """The n-step transitions starting at valid flat slot indices; n shrinks at an episode's end."""
        batch_size = len(indices)
        weights = np.ones(batch_size, dtype=np.float32) if weights is None else weights
        envs, slots = np.divmod(indices, self.slots)
        written = self.written[envs]
        start = written - self.slots + (slots - written) % self.slots  # absolute position of each slot
        rewards = np.zeros(batch_size, dtype=np.float32)
        dones = np.zeros(batch_size, dtype=bool)
        steps = np.zeros(batch_size, dtype=np.int64)
        running = np.ones(batch_size, dtype=bool)
        for j in range(self.n_step):  # walk forward while the episode goes on and transitions exist
            position = start + j
            slot = position % self.slots
            exists = running & (position < written - 1) & self.valid[envs, slot] if j else running
            rewards += np.where(exists, self.gamma ** j * self.rewards[envs, slot], 0.0).astype(np.float32)
            steps += exists
            dones |= exists & self.terminated[envs, slot]
            running = exists & ~self.terminated[envs, slot]
        return ReplaySample(
            observations=self._stack(envs, start), actions=self.actions[envs, slots], rewards=rewards,
            next_observations=self._stack(envs, start + steps), dones=dones.astype(np.float32),
            discounts=(self.gamma ** steps).astype(np.float32), weights=weights, indices=indices)

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """New priorities (e.g. |TD error| + eps) for sampled transitions still in the buffer."""
        if self.tree is None:
            return
        priorities = np.asarray(priorities, dtype=np.float64)
        still = self.valid.reshape(-1)[indices]  # a transition may have been overwritten since it was sampled
        self.max_priority = max(self.max_priority, float(priorities.max()))
        self.tree.update(indices[still], priorities[still] ** self.alpha)

    # ---- checkpoint ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = {name: map_observations(getattr(self, name), lambda array: torch.from_numpy(array.copy()))
                 for name in ("frames", "actions", "rewards", "terminated", "valid", "written")}
        state["rng"] = self.rng.bit_generator.state
        state["max_priority"] = self.max_priority
        if self.tree is not None:
            state["tree"] = torch.from_numpy(self.tree.tree.copy())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name in ("frames", "actions", "rewards", "terminated", "valid", "written"):
            saved, own = state[name], getattr(self, name)
            if isinstance(own, dict):
                if set(saved) != set(own) or any(saved[key].shape != own[key].shape for key in own):
                    raise ValueError(f"the saved replay buffer's {name} do not fit this one's")
                setattr(self, name, {key: saved[key].numpy().copy() for key in own})
                continue
            array = saved.numpy()
            if array.shape != own.shape:
                raise ValueError(f"the saved replay buffer's {name} has shape {array.shape}, this one {own.shape}")
            setattr(self, name, array.copy())
        self.rng.bit_generator.state = state["rng"]
        self.max_priority = float(state["max_priority"])
        if self.tree is not None and "tree" in state:
            self.tree.tree = state["tree"].numpy().copy()
        elif self.tree is not None:  # saved without priorities: every valid transition at the max
            self.tree.update(np.flatnonzero(self.valid), np.full(int(self.valid.sum()), self.max_priority))
