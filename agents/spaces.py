"""Space checks and action conversions shared by the agents: refuse an environment an algorithm cannot
handle, saying what fits, and map between a network's actions and the env's (Discrete start, any-shape Box)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from gymforge.engine.errors import ConfigError

PPO_ACTIONS = (gym.spaces.Discrete, gym.spaces.Box, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)


def fitting_algorithms(space: gym.Space) -> str:
    """The algorithms that take an action space no Discrete-only algorithm takes, for refusals."""
    if isinstance(space, PPO_ACTIONS):
        return "ppo"
    return "none (gymforge takes Discrete, Box, MultiDiscrete and MultiBinary actions)"


def require_discrete_actions(algo: str, env_id: str, space: gym.Space) -> int:
    """The number of actions, or a ConfigError naming the algorithms that fit this action space."""
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    raise ConfigError(f"{algo} needs a Discrete action space, but {env_id} has {space}; "
                      f"algorithms for this action space: {fitting_algorithms(space)}")


def require_ppo_actions(env_id: str, space: gym.Space) -> None:
    if not isinstance(space, PPO_ACTIONS):
        raise ConfigError(f"ppo takes Discrete, Box, MultiDiscrete and MultiBinary action spaces, but {env_id} has "
                          f"{space}; algorithms for this action space: {fitting_algorithms(space)}")


def action_start(space: gym.Space) -> np.ndarray | int:
    """The value of a network's action 0: Discrete(n, start) and MultiDiscrete(nvec, start) count from start."""
    if isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete)):
        return space.start
    return 0


def network_action_shape(space: gym.Space) -> tuple[int, ...]:
    """Per-sample action shape a policy head works in: () for Discrete, a flat vector otherwise."""
    if isinstance(space, gym.spaces.Discrete):
        return ()
    return (int(np.prod(space.shape)),)


def to_env_actions(space: gym.Space, actions: np.ndarray) -> np.ndarray:
    """Network actions (..., network_action_shape) -> the env's: shifted by the space's start, reshaped to its
    shape and cast to its dtype. Box actions are clipped to finite bounds only (infinite ones leave them as sampled)."""
    if isinstance(space, gym.spaces.Discrete):
        return (actions + space.start).astype(space.dtype)
    actions = actions.reshape(*actions.shape[:-1], *space.shape)
    if isinstance(space, gym.spaces.Box):
        return np.clip(actions, space.low, space.high).astype(space.dtype)
    return (actions + action_start(space)).astype(space.dtype)


def from_env_actions(space: gym.Space, actions: np.ndarray) -> np.ndarray:
    """The inverse of to_env_actions (without the clipping): env actions (B, ...) -> network actions."""
    actions = np.asarray(actions)
    if isinstance(space, gym.spaces.Discrete):
        return actions - space.start
    return (actions - action_start(space)).reshape(actions.shape[0], -1)
