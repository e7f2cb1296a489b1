"""The Python API under the CLI: train, resume and load runs from a notebook with the same Trainer."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from gymforge import distributed, estimator
from gymforge.config import TrainConfig, config_from_dict, save_config
from gymforge.errors import ConfigError
from gymforge.learner import Learner
from gymforge.registry import get_algorithm
from gymforge.run import Run
from gymforge.seeding import resolve_device, seed_everything
from gymforge.trainer import Trainer


def make_config(algo: str, values: dict[str, Any] | None = None, preset: str | None = "auto") -> TrainConfig:
    """Defaults < preset < values (gymforge.registry holds the rule)."""
    return get_algorithm(algo).make_config(values, preset)


def build_learner(algo: str, config: TrainConfig) -> Learner:
    """Seed everything, pick the device and construct the learner."""
    learner_class, _ = get_algorithm(algo).load()
    torch.set_num_threads(config.torch_threads)
    device, config = distributed.setup(resolve_device(config.device), config)  # torchrun: join, own seed stream
    seed_everything(config.seed)
    learner = learner_class(config, device)
    distributed.prepare(learner)  # torchrun: rank 0's weights everywhere, gradients averaged
    return learner


def train(algo: str, config: TrainConfig | None = None, *, name: str | None = None,
          logdir: str | Path = "runs", preset: str | None = "auto", progress_bar: bool | None = None,
          **values: Any) -> Run:
    """Train `algo` (with config, or options as keyword arguments) into a new run folder and return the run."""
    config = config if config is not None else make_config(algo, values, preset)
    learner = build_learner(algo, config)
    if distributed.is_main():
        run = Run.create(algo, config, logdir, name)
        distributed.note_run(run)
    else:  # torchrun: rank 0 alone writes the run folder
        run = distributed.follower_run(None, algo)
    Trainer(learner, run, progress_bar).fit()
    return run


def open_run(run_dir: str | Path, **overrides: Any) -> tuple[Run, TrainConfig]:
    """An existing run and its config, with optional overrides (e.g. steps to extend, eval_episodes)."""
    run, values = Run.open(run_dir)
    _, config_class = get_algorithm(run.algo).load()
    config = config_from_dict(config_class, values, source=f"{run.path / 'config.yaml'}")
    return run, dataclasses.replace(config, **overrides) if overrides else config


def resume(run_dir: str | Path, progress_bar: bool | None = None, steps: int | None = None) -> Run:
    """Continue a run from checkpoints/last.pt, writing to the same TensorBoard curves."""
    run, config = open_run(run_dir, **({"steps": steps} if steps else {}))
    if not run.checkpoint("last").exists():
        raise ConfigError(f"{run.path} has no checkpoints/last.pt to resume from; start a new run instead")
    if steps and distributed.launched_rank() == 0:  # under torchrun rank 0 alone writes
        save_config(run.path / "config.yaml", run.algo, config)
    learner = build_learner(run.algo, config)
    distributed.note_run(run)
    if not distributed.is_main():  # torchrun: rank 0 alone writes the run folder; every rank reads last.pt
        run = distributed.follower_run(run, run.algo)
    Trainer(learner, run, progress_bar).fit(resume=True)
    return run


def load_learner(run_dir: str | Path, checkpoint: str = "best", **overrides: Any) -> Learner:
    """A trained learner from a run folder (best.pt, falling back to last.pt) or a save() file, ready to evaluate
    or act; overrides change options such as eval_episodes. The caller's RNG states and threads stay as they were."""
    return estimator.load_learner(run_dir, checkpoint, **overrides)
