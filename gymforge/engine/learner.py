"""The written contracts: what the Trainer drives (Learner), and what the CLI and API use on top of it (Agent,
Generator). The registry's `kind` says which one an algorithm is; nothing above the engine probes with hasattr.

A Q-table, DQN, PPO and the world model are Agents; an AE, a VAE, the GANs and CycleGAN are Generators.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from gymforge.engine.config import TrainConfig
from gymforge.engine.errors import ConfigError

SPLITS = ("validation", "test")
"""evaluate(split): "validation" chooses best.pt and drives tuning; "test" is disjoint from it (episodes seeded
from another stream, or images no selection saw) and gives the figure a report may quote."""


@runtime_checkable
class Learner(Protocol):
    """Anything trainable. Built as `LearnerClass(config, device)`; the Trainer owns the loop around it.

    Optional, so not in the protocol: `prepare() -> dict[str, float | str]`, work a learner needs once before
    its first step (a generator's judge classifier, trained or loaded); the Trainer calls it on a fresh fit,
    logs its numbers and prints it in one line.

    The engine owns progress: before the first step Trainer.fit sets `learner.horizon`, the progress every
    schedule anneals over (learning rate, clip range, epsilon, PER's beta), and a learner that saves state saves
    it. Learners read their schedules' fraction from Estimator.schedule_fraction(), never from config.steps."""

    config: TrainConfig
    score_key: ClassVar[str]
    """Which evaluate() figure decides the best checkpoint, e.g. "mean_return" or "neg_elbo"."""
    score_mode: ClassVar[Literal["max", "min"]]

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        """One unit of work (a chunk of env steps, a rollout + update, a batch); metrics with grouped tags.

        `limit` is the progress the Trainer lets this call reach (its next evaluation, checkpoint or the budget):
        a learner whose work divides (env steps one at a time) stops there; an indivisible unit (a PPO rollout,
        an image batch) may pass it by less than one unit. None: the learner's own chunk (direct calls, tests).
        """
        ...

    @property
    def progress(self) -> int:
        """What the budget counts: environment steps, or samples seen."""
        ...

    def evaluate(self, split: str = "validation") -> dict[str, float]:
        """Held-out figures on `split` (see SPLITS), including `score_key`."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: tensors and primitives only (loaded with weights_only=True)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def log_media(self, logger: Any, step: int) -> None:
        """Images for TensorBoard at an evaluation (may do nothing; agents' episode videos are the Trainer's);
        logger.image(..., save_png=True) also writes a PNG into the Run's samples/, the one media folder."""
        ...

    def close(self) -> None:
        """Release environments and workers."""
        ...


@runtime_checkable
class Agent(Learner, Protocol):
    """A learner that acts in an environment: what `evaluate`, `watch`, `collect` and episode videos use."""

    def make_env(self, render_mode: str | None = None) -> gym.Env:
        """One environment prepared as in evaluation (wrappers, observation keys), e.g. to watch or record."""
        ...

    def policy(self) -> Any:
        """A fresh greedy policy for one episode: observation -> action (recurrent memory starts empty)."""
        ...

    def act(self, observation: Any) -> Any:
        """The greedy action for one observation."""
        ...


@runtime_checkable
class Generator(Learner, Protocol):
    """A learner that makes images: what `sample`, the sample grids and `export` use."""

    def sample_grid(self, n: int = 64, seed: int = 0, label: int | None = None, interpolate: bool = False,
                    reconstruct: bool = False) -> np.ndarray:
        """(H, W, 3) uint8 grid: samples, latent walks (interpolate) or held-out inputs beside their
        reconstructions (reconstruct). An option the model cannot use raises ConfigError."""
        ...

    def translate(self, folder: Any, n: int = 64) -> np.ndarray:
        """(H, W, 3) uint8 grid of a folder's images beside their translations; ConfigError if the model
        does not translate (only CycleGAN does)."""
        ...


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ConfigError(f"evaluate's split must be validation or test, got {split!r}")
