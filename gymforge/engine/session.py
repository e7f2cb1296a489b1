"""The one path from a config to a fitted learner: build() constructs it, fit() runs it.

The CLI (`gymforge train`, `--resume`), the Python API (`Algo(...)`, `learn`, `load`) and `tune` all come here,
so a seed, a thread count or a torchrun rank means the same thing whichever door a run came in by:
- build() constructs on the config's device under its seed (torchrun: this rank's), in the learner's own global
  random stream, and hands the caller's process back untouched; the learner keeps the stream it was built in.
- fit() trains in that stream with the config's thread count, through the learner's one Trainer (a second
  learn() continues the first's run, its best score and its clock), and keeps the stream where it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gymforge.engine import distributed
from gymforge.engine.config import TrainConfig
from gymforge.engine.run import Run
from gymforge.engine.seeding import own_rng, resolve_device, torch_threads


def build(learner_class: type, config: TrainConfig, rng: dict[str, Any] | None = None) -> Any:
    """A learner of `learner_class` for `config`: the same seed, the same initial weights. `rng` (a saved
    stream, as a checkpoint holds it) replaces the construction's own for the training that follows."""
    device, config = distributed.setup(resolve_device(config.device), config)  # torchrun: join, own seed
    with own_rng(config.seed) as after, torch_threads(config.torch_threads):
        learner = learner_class(config, device)
    learner.global_rng = rng or after
    distributed.prepare(learner)  # torchrun: rank 0's weights everywhere, gradients averaged
    return learner


def fit(learner: Any, run: Run, *, resume: bool = False, until: int | None = None, close: bool = True,
        progress_bar: bool | None = None,
        on_evaluate: Callable[[int, dict[str, float]], bool | None] | None = None) -> dict[str, Any]:
    """Train `learner` into `run` to `until` (default: its budget); resume=True loads the run's last.pt first.
    Returns the run's summary. close=False leaves the learner open (the Python API's learn())."""
    from gymforge.engine.trainer import Trainer  # TensorBoard loads when a learner first trains, not on import

    trainer = getattr(learner, "trainer", None)
    if trainer is None or trainer.run.path != run.path or on_evaluate is not None:
        trainer = Trainer(learner, run, progress_bar, on_evaluate)
        learner.trainer = trainer
    trainer.progress_bar = progress_bar
    start = getattr(learner, "global_rng", None)
    with own_rng(learner.config.seed if start is None else start) as after, \
            torch_threads(learner.config.torch_threads):
        summary = trainer.fit(resume=resume, close=close, until=until)
    learner.global_rng = after
    return summary


def create_run(algo: str, config: TrainConfig, logdir: Any = "runs", name: str | None = None) -> Run:
    """A new run folder (torchrun: rank 0 alone writes it; the other ranks follow it)."""
    if not distributed.is_main():
        return distributed.follower_run(None, algo)
    run = Run.create(algo, config, logdir, name)
    distributed.note_run(run)
    return run
