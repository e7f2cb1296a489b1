"""Space checks shared by the agents: refuse an environment an algorithm cannot handle, saying what fits."""

from __future__ import annotations

import gymnasium as gym

from gymforge.errors import ConfigError

FITS_CONTINUOUS_ACTIONS = "ppo"
FITS_DISCRETE_ACTIONS = "qlearning (small state spaces), dqn or ppo"


def require_discrete_actions(algo: str, env_id: str, space: gym.Space) -> int:
    """The number of actions, or a ConfigError naming the algorithms that fit this action space."""
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    raise ConfigError(f"{algo} needs a Discrete action space, but {env_id} has {space}; "
                      f"algorithms for this action space: {FITS_CONTINUOUS_ACTIONS}")
