"""The smallest learners that meet each contract of gymforge/learner.py, registered under fake names so the real
CLI, API and Trainer drive them: what an algorithm must provide, and nothing more.

FakeAgent balances CartPole with a hand-written rule once it has "trained" LEARNS_AT steps (before that it always
pushes left), so its evaluations really improve; FakeGenerator's error falls as it trains, and its sample grids
are a seeded pattern, so the same seed gives the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymforge.agents.config import AgentConfig
from gymforge.agents.episodes import episode_seeds, play_episodes

from gymforge.engine.config import TrainConfig
from gymforge.engine.errors import UserError
from gymforge.engine.learner import check_split
from gymforge.engine.registry import Algorithm

LEARNS_AT = 300


@dataclass
class FakeAgentConfig(AgentConfig):
    """A fake agent's options: the shared agent options only."""

    steps: int = 600
    eval_every: int = 200
    checkpoint_every: int = 200
    eval_episodes: int = 3


class FakeAgent:
    score_key = "mean_return"
    score_mode = "max"
    limits: list[int | None] = []  # what the Trainer allowed each train_step, for the schedule test

    def __init__(self, config: FakeAgentConfig, device: Any = None) -> None:
        self.config, self.steps = config, 0

    @property
    def progress(self) -> int:
        return self.steps

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        FakeAgent.limits.append(limit)
        self.steps = min(self.steps + 100, self.config.steps if limit is None else limit)
        return {"train/loss": 1.0 / self.steps}

    def make_env(self, render_mode: str | None = None) -> gym.Env:
        return gym.make(self.config.env, render_mode=render_mode)

    def act(self, observation: Any) -> int:
        if self.steps < LEARNS_AT:
            return 0
        return int(observation[2] + 0.5 * observation[3] > 0)  # push toward the side the pole falls to

    def policy(self) -> Any:
        return self.act

    def evaluate(self, split: str = "validation") -> dict[str, float]:
        check_split(split)
        env = self.make_env()
        try:
            returns = [play_episodes(env, self.policy, 1, seed).returns[0]
                       for seed in episode_seeds(self.config.seed, split, self.config.eval_episodes)]
        finally:
            env.close()
        return {"mean_return": float(np.mean(returns))}

    def state_dict(self) -> dict[str, Any]:
        return {"progress": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state["progress"])

    def log_media(self, logger: Any, step: int) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class FakeGeneratorConfig(TrainConfig):
    """A fake generator's options."""

    data: str = "checkers"
    steps: int = 600
    eval_every: int = 200
    checkpoint_every: int = 200

    @property
    def subject(self) -> str:
        return self.data


class FakeGenerator:
    score_key = "error"
    score_mode = "min"

    def __init__(self, config: FakeGeneratorConfig, device: Any = None) -> None:
        self.config, self.samples = config, 0

    @property
    def progress(self) -> int:
        return self.samples

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        self.samples += 64  # an indivisible batch: it may pass the limit by less than one batch
        return {"train/loss": 1.0 / self.samples}

    def evaluate(self, split: str = "validation") -> dict[str, float]:
        check_split(split)
        return {"error": 1000.0 / (1000.0 + self.samples)}

    def sample_grid(self, n: int = 64, seed: int = 0, label: int | None = None, interpolate: bool = False,
                    reconstruct: bool = False) -> np.ndarray:
        if label is not None or interpolate or reconstruct:
            raise UserError("the fake generator only samples: --label, --interpolate and --reconstruct do not apply")
        tiles = np.random.default_rng(seed).integers(0, 2, size=(n, 1, 1)) * 255
        return np.kron(tiles.reshape(-1, 1), np.ones((8, 8))).astype(np.uint8)[..., None].repeat(3, axis=-1)

    def translate(self, folder: Any, n: int = 64) -> np.ndarray:
        raise UserError("--translate needs a cyclegan run")

    def state_dict(self) -> dict[str, Any]:
        return {"progress": self.samples}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.samples = int(state["progress"])

    def log_media(self, logger: Any, step: int) -> None:
        logger.image("samples/grid", self.sample_grid(16, 0), step)

    def close(self) -> None:
        pass


FAKES = [
    Algorithm("fake-agent", __name__, "FakeAgent", "FakeAgentConfig", "the agent contract's smallest learner"),
    Algorithm("fake-generator", __name__, "FakeGenerator", "FakeGeneratorConfig",
              "the generator contract's smallest learner", "generative"),
]
