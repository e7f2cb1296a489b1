"""Q-value networks: the encoder an observation space calls for, then a plain or a dueling head."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import torch
from gymforge.agents.encoders import make_encoder
from torch import nn


class QNetwork(nn.Module):
    """Observations -> one value per action.

    The dueling head (Wang et al. 2016) splits the features into a state value V(s) and advantages A(s, a)
    and recombines them as Q = V + A - mean_a A, so V learns from every action's update.
    """

    def __init__(self, observation_space: gym.Space, n_actions: int, hidden_sizes: Sequence[int] = (64, 64),
                 dueling: bool = False) -> None:
        super().__init__()
        self.encoder, features = make_encoder(observation_space, hidden_sizes, activation="relu")
        self.dueling = dueling
        self.advantage = nn.Linear(features, n_actions)
        self.value = nn.Linear(features, 1) if dueling else None

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """(B, *obs_shape) -> (B, n_actions)."""
        features = self.encoder(observations)  # (B, F)
        advantages = self.advantage(features)  # (B, A)
        if self.value is None:
            return advantages
        return self.value(features) + advantages - advantages.mean(dim=-1, keepdim=True)
