"""The policy seam: each agent's one greedy acting module.

Evaluation, `watch`, `collect --policy`, the Trainer's episode videos and the ONNX export all run the same module
(agents/policy_export.py only traces it), so what the exported file does is what the agent does. Inside it:
training's observation normalization (networks.Standardize, frozen, with its clip), the legal-action mask of a
Dict observation, and the recurrent actor state. It returns the network's action; the agent maps it to the env
(Discrete(start=k) shifts, shaped spaces) on its way out.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from torch import nn
from torch.distributions import Categorical

from gymforge.agents.actor_critic import action_mask
from gymforge.envs.observations import MASK_KEY


class GreedyActor(nn.Module):
    """PPO's greedy actor: (observation, actor state, episode starts) -> (action, logits or None, next state).

    observation: (B, ...) arrays, or a dict of them whose "action_mask" part masks the head. The actor state is
    the actor trunk's (h, or (h, c); () without memory), cleared where `starts` (B,) marks an episode's first
    observation. The action is the distribution's mode: the argmax, or the Gaussian mean clipped to the Box's
    finite bounds as it goes to the env. `logits` are a Categorical policy's log-probabilities.
    """

    def __init__(self, model: nn.Module, action_space: gym.Space, standardize: nn.Module | None) -> None:
        super().__init__()
        self.standardize = standardize
        self.trunk, self.head = model.actor_trunk, model.actor_head
        self.bounded = isinstance(action_space, gym.spaces.Box)
        if self.bounded:
            self.register_buffer("low", torch.as_tensor(action_space.low, dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(action_space.high, dtype=torch.float32))

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> Any:
        return self.trunk.initial_state(batch, device)

    def forward(self, obs: Any, state: Any = (), starts: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None, Any]:
        if self.standardize is not None:  # array observations only (Dict and image spaces refuse normalization)
            obs = self.standardize(obs)
        features, state = self.trunk(obs, state, starts)
        distribution = self.head(features, action_mask(obs))
        action = distribution.mode
        if self.bounded:
            action = torch.maximum(torch.minimum(action, self.high), self.low)
        logits = distribution.logits if isinstance(distribution, Categorical) else None
        return action, logits, state


class GreedyQ(nn.Module):
    """DQN's greedy policy: observation -> (argmax over the legal actions, Q-values (B, A)). A Dict observation's
    "action_mask" puts illegal actions at -inf; a row with no legal action (a terminal state's) stays as it is."""

    def __init__(self, network: nn.Module, cast: bool = False) -> None:
        super().__init__()
        self.network = network
        self.cast = cast  # float observations as float32 (the export's input); uint8 images stay uint8

    def forward(self, obs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        q_values = self.network(obs.float() if self.cast else obs)
        return masked_q(q_values, obs).argmax(dim=-1), q_values


def masked_q(q: torch.Tensor, observations: Any) -> torch.Tensor:
    """Q-values (B, A) with illegal actions at -inf, for argmax and the target's max; unmasked without a mask.
    A row with no legal action (a terminal state's mask may be all zero) is left as it is."""
    if not (isinstance(observations, dict) and MASK_KEY in observations):
        return q
    mask = observations[MASK_KEY].bool()
    mask = mask | ~mask.any(dim=1, keepdim=True)
    return q.masked_fill(~mask, float("-inf"))
