"""The one protocol the Trainer drives: a Q-table, DQN, PPO, a VAE and a GAN all look like this."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from gymforge.config import TrainConfig


@runtime_checkable
class Learner(Protocol):
    """Anything trainable. Built as `LearnerClass(config, device)`; the Trainer owns the loop around it."""

    config: TrainConfig
    score_key: ClassVar[str]
    """Which evaluate() figure decides the best checkpoint, e.g. "mean_return" or "neg_elbo"."""
    score_mode: ClassVar[Literal["max", "min"]]

    def train_step(self) -> dict[str, float]:
        """One unit of work (a chunk of env steps, a rollout + update, a batch); metrics with grouped tags."""
        ...

    @property
    def progress(self) -> int:
        """What the budget counts: environment steps, or samples seen."""
        ...

    def evaluate(self) -> dict[str, float]:
        """Held-out figures, e.g. mean_return over config.eval_episodes greedy episodes."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: tensors and primitives only (loaded with weights_only=True)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def log_media(self, logger: Any, step: int) -> None:
        """Images or videos for TensorBoard (may do nothing)."""
        ...

    def close(self) -> None:
        """Release environments and workers."""
        ...
