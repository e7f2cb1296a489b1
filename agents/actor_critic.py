"""Actor-critic networks for PPO: encoders from agents/encoders, heads and cores from networks/.

A *trunk* turns observations into features: an encoder, optionally followed by memory (an LSTM/GRU core
over time, or a transformer over a window of the last K observations). The actor and the critic either
share one trunk or own one each; with separate trunks the value loss cannot reach the actor's weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch
from gymforge.agents.encoders import make_encoder
from gymforge.envs.observations import MASK_KEY
from gymforge.networks import (
    BernoulliHead,
    CategoricalHead,
    DiagGaussianHead,
    LearnedPositionalEncoding,
    MultiCategoricalHead,
    RecurrentCore,
    TransformerEncoder,
    init_module,
    layer_init,
)
from gymnasium.wrappers import FrameStackObservation, TransformObservation
from torch import nn
from torch.distributions import Distribution

Memory = Literal["none", "lstm", "gru", "transformer"]
# A policy's memory state: one RecurrentCore state per trunk (h for a GRU, (h, c) for an LSTM), or () without.
State = tuple[Any, ...]


def map_state(state: Any, function: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    """Apply `function` to every tensor of a (nested tuple) memory state."""
    if isinstance(state, tuple):
        return tuple(map_state(part, function) for part in state)
    return function(state)


def memory_window(env: gym.Env, length: int) -> gym.Env:
    """The last `length` observations as a (length, F + 1) window; the extra feature is 1 for real steps,
    0 for the zero padding before an episode's start, so attention can mask the padding."""
    space = env.observation_space
    if not (isinstance(space, gym.spaces.Box) and len(space.shape) == 1):
        raise ValueError(f"the transformer memory needs flat Box observations, got {space}")
    low = np.append(space.low, 0.0).astype(np.float32)
    high = np.append(space.high, 1.0).astype(np.float32)
    marked = TransformObservation(env, lambda obs: np.append(obs, np.float32(1.0)).astype(np.float32),
                                  gym.spaces.Box(low, high, dtype=np.float32))
    return FrameStackObservation(marked, length, padding_type="zero")


class Trunk(nn.Module):
    """Observations -> features. memory "none": (B, ...) -> (B, F); "lstm"/"gru": (T, B, ...) -> (T, B, F)
    with the core's state zeroed at episode starts; "transformer": a (B, K, F + 1) window -> (B, F)."""

    def __init__(self, space: gym.Space, hidden_sizes: tuple[int, ...], activation: str, memory: Memory,
                 memory_size: int) -> None:
        super().__init__()
        self.memory = memory
        if isinstance(space, gym.spaces.Dict) and memory != "none":
            raise ValueError(f"memory {memory} needs array observations, got a Dict observation {space}")
        self.observation_ndim = len(space.shape) if space.shape is not None else 0
        if memory == "transformer":
            length, width = space.shape
            self.embed = layer_init(nn.Linear(width, memory_size))
            self.positions = LearnedPositionalEncoding(memory_size, max_len=length)
            self.encoder = TransformerEncoder(1, memory_size, num_heads=2, mlp_ratio=2.0)
            self.output_dim = memory_size
            return
        self.encoder, self.output_dim = make_encoder(space, hidden_sizes, activation)
        init_module(self.encoder, "orthogonal", gain=math.sqrt(2))
        if memory in ("lstm", "gru"):
            self.core = RecurrentCore(memory, self.output_dim, memory_size)
            for name, parameter in self.core.named_parameters():  # orthogonal weights, zero biases
                nn.init.orthogonal_(parameter) if "weight" in name else nn.init.zeros_(parameter)
            self.output_dim = memory_size

    def initial_state(self, batch: int, device: torch.device) -> Any:
        return self.core.initial_state(batch, device) if self.memory in ("lstm", "gru") else ()

    def forward(self, obs: torch.Tensor, state: Any = (), episode_starts: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, Any]:
        if self.memory == "transformer":
            padding = obs[..., -1] < 0.5  # (B, K) True where the window reaches before the episode
            tokens = self.positions(self.embed(obs))  # (B, K, E)
            return self.encoder(tokens, key_padding_mask=padding)[:, -1], state  # the newest step's token
        if self.memory == "none":
            return self.encoder(obs), state
        if obs.dim() == self.observation_ndim + 1:  # one step: (B, ...) -> (1, B, ...)
            features, state = self.forward(obs.unsqueeze(0), state, episode_starts.unsqueeze(0))
            return features.squeeze(0), state
        steps, batch = obs.shape[:2]
        features = self.encoder(obs.flatten(0, 1)).view(steps, batch, -1)  # (T, B, F)
        return self.core(features, state, episode_starts)  # (T, B, H)


def make_head(action_space: gym.Space, features: int, log_std_init: float) -> nn.Module:
    """The action distribution head: Categorical, diagonal Gaussian, independent categoricals or Bernoullis.
    Box, MultiDiscrete and MultiBinary actions of any shape are flattened (agents/spaces.py reshapes them)."""
    if isinstance(action_space, gym.spaces.Discrete):
        return CategoricalHead(features, int(action_space.n))
    if isinstance(action_space, gym.spaces.Box):
        return DiagGaussianHead(features, int(np.prod(action_space.shape)), log_std_init=log_std_init)
    if isinstance(action_space, gym.spaces.MultiDiscrete):
        return MultiCategoricalHead(features, action_space.nvec.reshape(-1).tolist())
    if isinstance(action_space, gym.spaces.MultiBinary):
        return BernoulliHead(features, int(np.prod(action_space.shape)))
    raise ValueError(f"ppo handles Discrete, Box, MultiDiscrete and MultiBinary action spaces, got {action_space}")


def action_mask(obs: Any) -> torch.Tensor | None:
    """The "action_mask" part of a batch of Dict observations, flattened to (T * B, A); None without one."""
    if isinstance(obs, dict) and MASK_KEY in obs:
        mask = obs[MASK_KEY]
        return mask.reshape(-1, mask.shape[-1])
    return None


class ActorCritic(nn.Module):
    """Policy and value function. `forward(obs, state, episode_starts) -> (distribution, value, state)`.

    Feed-forward policies take obs (B, ...); recurrent ones take (T, B, ...) or a single step (B, ...).
    Distribution and value cover every sample, flattened to (T * B) for sequences.
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, hidden_sizes: tuple[int, ...] = (64, 64),
                 activation: str = "tanh", shared: bool = False, memory: Memory = "none", memory_size: int = 64,
                 log_std_init: float = 0.0) -> None:
        super().__init__()
        self.recurrent = memory in ("lstm", "gru")
        self.actor_trunk = Trunk(observation_space, hidden_sizes, activation, memory, memory_size)
        self.critic_trunk = self.actor_trunk if shared else Trunk(
            observation_space, hidden_sizes, activation, memory, memory_size)
        self.shared = shared
        self.actor_head = make_head(action_space, self.actor_trunk.output_dim, log_std_init)  # gain 0.01
        self.critic_head = layer_init(nn.Linear(self.critic_trunk.output_dim, 1), gain=1.0)

    def trunks(self) -> tuple[Trunk, ...]:
        return (self.actor_trunk,) if self.shared else (self.actor_trunk, self.critic_trunk)

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        return tuple(trunk.initial_state(batch, device) for trunk in self.trunks())

    def actor_parameters(self) -> list[nn.Parameter]:
        return [*self.actor_trunk.parameters(), *self.actor_head.parameters()]

    def forward(self, obs: torch.Tensor, state: State = (), episode_starts: torch.Tensor | None = None
                ) -> tuple[Distribution, torch.Tensor, State]:
        states = state or ((),) * len(self.trunks())
        actor_features, actor_state = self.actor_trunk(obs, states[0], episode_starts)
        if self.shared:
            critic_features, new_state = actor_features, (actor_state,)
        else:
            critic_features, critic_state = self.critic_trunk(obs, states[1], episode_starts)
            new_state = (actor_state, critic_state)
        actor_features = actor_features.flatten(0, -2)  # (T * B, F) for sequences
        value = self.critic_head(critic_features).flatten()  # (T * B,)
        return self.actor_head(actor_features, action_mask(obs)), value, new_state if self.recurrent else ()

    def policy_distribution(self, obs: torch.Tensor) -> Distribution:
        """The actor alone, for feed-forward policies: obs (B, ...) -> distribution over (B,) actions."""
        return self.actor_head(self.actor_trunk(obs)[0], action_mask(obs))

    def value(self, obs: torch.Tensor, state: State = (), episode_starts: torch.Tensor | None = None
              ) -> torch.Tensor:
        """The critic alone (the bootstrap value after a rollout); (B,)."""
        states = state or ((),) * len(self.trunks())
        features, _ = self.critic_trunk(obs, states[-1], episode_starts)
        return self.critic_head(features).flatten()
