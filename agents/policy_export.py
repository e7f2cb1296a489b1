"""What `gymforge export` writes of an agent: its policy seam module (agents/policy.py), the one the agent acts
with, traced with the saved observation normalization inside and a recurrent policy's state as explicit inputs
and outputs."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from gymforge.agents.policy import GreedyQ
from gymforge.engine import export
from gymforge.engine.errors import ConfigError


def observation_input(space: gym.Space, algo: str) -> np.dtype:
    """The dtype the exported policy takes: uint8 for images, float32 for vectors; other spaces are refused."""
    if isinstance(space, gym.spaces.Dict):
        raise ConfigError(f"{algo} policies with Dict observations cannot be exported yet; export handles Box "
                          "observations (vectors and images)")
    if not isinstance(space, gym.spaces.Box):
        raise ConfigError(f"cannot export a policy for observation space {space}; export handles Box observations")
    return np.dtype(np.uint8) if space.dtype == np.uint8 else np.dtype(np.float32)


def observation_sampler(space: gym.Space, dtype: np.dtype) -> Any:
    def sample(n: int, seed: int) -> np.ndarray:
        space.seed(seed)
        return np.stack([space.sample() for _ in range(n)]).astype(dtype)

    return sample


class ExportedActor(nn.Module):
    """PPO's seam module (agents/policy.GreedyActor) with its state as explicit ONNX inputs and outputs:
    observation [, state_h [, state_c]] -> action [, log_probs] [, next_state_h [, next_state_c]]. Feed zeros
    as the state at an episode's start."""

    def __init__(self, greedy: nn.Module, state_kind: str | None) -> None:
        super().__init__()
        self.greedy = greedy
        self.state_kind = state_kind  # None, "gru" or "lstm"

    def forward(self, observation: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        core_state = () if self.state_kind is None else tuple(state) if self.state_kind == "lstm" else state[0]
        starts = torch.zeros(observation.shape[0], dtype=torch.float32)
        action, logits, core_state = self.greedy(observation, core_state, starts)
        new_state = () if self.state_kind is None else tuple(core_state) if self.state_kind == "lstm" else (core_state,)
        return (action, *(() if logits is None else (logits,)), *new_state)


def ppo_exportable(agent: Any) -> export.Exportable:
    """The hook behind PPO.export_module()."""
    space, config = agent.envs.single_observation_space, agent.config
    dtype = observation_input(space, "ppo")
    if config.memory == "transformer":
        raise ConfigError("PPO with --memory transformer cannot be exported yet (its window input); lstm, gru "
                          "and feed-forward policies can")
    state_kind = config.memory if config.memory in ("lstm", "gru") else None
    agent.model.cpu()
    agent.device = torch.device("cpu")
    module = ExportedActor(agent.greedy_policy(), state_kind)
    outputs = ["action"] + (["log_probs"] if isinstance(agent.action_space, gym.spaces.Discrete) else [])
    state_names = {"lstm": ["state_h", "state_c"], "gru": ["state_h"], None: []}[state_kind]
    sample_observations = observation_sampler(space, dtype)

    def sample(n: int, seed: int) -> dict[str, np.ndarray]:
        inputs = {"observation": sample_observations(n, seed)}
        generator = np.random.default_rng(seed)
        for name, template in zip(state_names, export_state(agent, n)):
            inputs[name] = generator.normal(0.0, 0.5, template.shape).astype(np.float32)
        return inputs

    next_names = [f"next_{name}" for name in state_names]
    memory = f", state {'/'.join(state_names)} -> next state (zeros at an episode's start)" if state_kind else ""
    return export.Exportable(module, ["observation", *state_names], outputs + next_names, sample,
                             {name: 1 for name in state_names + next_names},
                             f"greedy {config.env} policy: observation {space.shape} {dtype} -> "
                             f"{'/'.join(outputs)}{memory}")


def export_state(agent: Any, n: int) -> tuple[np.ndarray, ...]:
    """Zero states of the actor's core for n parallel episodes, as numpy arrays (h, or h and c)."""
    state = agent.model.actor_trunk.initial_state(n, torch.device("cpu"))
    state = state if isinstance(state, tuple) else (state,)
    return tuple(part.numpy() for part in state)


def dqn_exportable(agent: Any) -> export.Exportable:
    """The hook behind DQN.export_module()."""
    space = agent.envs.single_observation_space
    dtype = observation_input(space, "dqn")
    sample_observations = observation_sampler(space, dtype)
    return export.Exportable(GreedyQ(agent.online.cpu(), cast=dtype != np.uint8), ["observation"],
                             ["action", "q_values"], lambda n, seed: {"observation": sample_observations(n, seed)},
                             description=f"greedy {agent.config.env} policy: observation {space.shape} {dtype} -> "
                             "action (argmax), q_values")
