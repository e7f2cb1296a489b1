"""The options every reinforcement-learning agent shares; each agent's own config extends this one, beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from gymforge.engine.config import TrainConfig
from gymforge.engine.errors import require


@dataclass
class AgentConfig(TrainConfig):
    """Fields shared by every reinforcement-learning agent."""

    env: str = "CartPole-v1"
    """Gymnasium environment id (classic control, toy text, Box2D, MuJoCo, Atari, gymforge/...)."""
    env_options: tuple[str, ...] = ()
    """Keyword arguments for gym.make as KEY=VALUE (YAML values), e.g. map_name=8x8 for FrozenLake-v1."""
    observation_keys: tuple[str, ...] = ()
    """Keys of a Dict (or positions of a Tuple) observation to use; empty uses every key an encoder can take."""
    eval_episodes: int = 20
    """Greedy episodes per evaluation."""
    eval_video: bool = True
    """Record one greedy episode at each evaluation to TensorBoard as a video (--no-eval-video skips it)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.eval_episodes > 0, f"--eval-episodes must be positive, got {self.eval_episodes}")
        for option in self.env_options:
            require("=" in option and not option.startswith("="),
                    f"--env-options takes KEY=VALUE pairs, got {option!r}")

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """--env-options as gym.make keyword arguments, each value read as YAML (8x8 -> '8x8', true -> True)."""
        return {key: yaml.safe_load(value) for key, value in (option.split("=", 1) for option in self.env_options)}

    @property
    def subject(self) -> str:
        return self.env
