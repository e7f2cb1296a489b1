"""The Python API under the CLI: train, resume and load runs from a notebook, through the one build and fit
(gymforge.engine.session) every door uses."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from gymforge.engine import distributed, estimator, session
from gymforge.engine.config import TrainConfig, config_from_dict, save_config, unconstructed
from gymforge.engine.errors import CheckpointError, ConfigError, UserError
from gymforge.engine.learner import Agent, Learner
from gymforge.engine.registry import get_algorithm
from gymforge.engine.run import Run
from gymforge.engine.seeding import set_rng_state, stream_seed


def make_config(algo: str, values: dict[str, Any] | None = None, preset: str | None = "auto") -> TrainConfig:
    """Defaults < preset < values (gymforge.engine.registry holds the rule)."""
    return get_algorithm(algo).make_config(values, preset)


def configure(algo: str, flags: list[str], values: dict[str, Any] | None = None, preset: str | None = "auto",
              show_help: bool = False) -> TrainConfig:
    """`gymforge train`'s one config path: defaults < preset < `values` (the --config file, then the run options
    the command line gave, its subject included) < the remaining flags, resolved here and constructed once (tyro
    parses the flags over defaults that are not yet validated)."""
    import tyro

    algorithm = get_algorithm(algo)
    _, config_class = algorithm.load()
    defaults = unconstructed(config_class, algorithm.option_values(dict(values or {}), preset))
    return tyro.cli(config_class, args=flags + (["--help"] if show_help else []), default=defaults,
                    prog=f"gymforge train {algo}", description=config_class.__doc__)


def build_learner(algo: str, config: TrainConfig) -> Learner:
    """The registered algorithm's learner for `config`, through the one build (gymforge.engine.session), for a
    process that is the run's own (the CLI, tune, a benchmark script): its global random state then continues
    the learner's stream, so a script that steps the learner itself is as reproducible as fit()."""
    learner_class, _ = get_algorithm(algo).load()
    learner = session.build(learner_class, config)
    set_rng_state(learner.global_rng)
    return learner


def train(algo: str, config: TrainConfig | None = None, *, name: str | None = None,
          logdir: str | Path = "runs", preset: str | None = "auto", progress_bar: bool | None = None,
          **values: Any) -> Run:
    """Train `algo` (with config, or options as keyword arguments) into a new run folder and return the run."""
    config = config if config is not None else make_config(algo, values, preset)
    learner = build_learner(algo, config)
    run = session.create_run(algo, config, logdir, name)
    session.fit(learner, run, progress_bar=progress_bar)
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
    session.fit(learner, run, resume=True, progress_bar=progress_bar)
    return run


def load_learner(run_dir: str | Path, checkpoint: str = "best", kind: str | None = None,
                 **overrides: Any) -> Learner:
    """A trained learner from a run folder (best.pt, falling back to last.pt) or a save() file, ready to evaluate,
    act or sample; overrides change options such as eval_episodes. The caller's RNG states and threads stay as
    they were. kind="agent" or "generative" refuses, in one line, a run of the other kind."""
    if kind is not None and Path(run_dir).is_dir():
        check_kind(run_dir, Run.open(run_dir)[0].algo, kind)
    learner = estimator.load_learner(run_dir, checkpoint, **overrides)
    return learner


def check_kind(source: str | Path, algo: str, kind: str) -> None:
    actual = get_algorithm(algo).kind
    if actual != kind:
        what, command = ("generative", "sample") if actual == "generative" else ("agent", "watch")
        raise ConfigError(f"{source} is a {algo} {what} run, not {'an agent' if kind == 'agent' else 'a generative'}"
                          f" one; use `gymforge {command}` for it")


def watch(agent: Agent, episodes: int, seed: int | None = None, render_mode: str = "human") -> tuple[Any, float]:
    """Play `episodes` greedy episodes of a loaded agent (rendered in a window, or as rgb_array frames to record);
    returns the EpisodeResult and the env's frame rate."""
    from gymforge.agents.episodes import play_episodes

    seed = stream_seed(agent.config.seed, "watch") if seed is None else seed
    env = agent.make_env(render_mode=render_mode)
    try:
        result = play_episodes(env, agent.policy, episodes, seed, record=render_mode == "rgb_array")
    finally:
        env.close()
    return result, env.metadata.get("render_fps", 30)


def save_grid(grid: Any, path: str | Path, scale: int = 1) -> Path:
    """A generator's (H, W, 3) uint8 grid as a PNG, each pixel scale x scale (small images stay sharp)."""
    from gymforge.generative.images import save_png

    return save_png(Path(path), grid.repeat(scale, axis=0).repeat(scale, axis=1))


def export_run(run_dir: str | Path, out: str | Path, format_name: str | None = None, checkpoint: str = "best",
               check: int = 100) -> dict[str, Any]:
    """Export a run's checkpoint (best.pt, falling back to last.pt) to `out`, then check it on `check` inputs."""
    from gymforge.engine.export import (
        check_onnx,
        export_format,
        exportable_of,
        require_export_extra,
        write_onnx,
    )

    out = Path(out)
    export_format(out, format_name)
    if check < 0:
        raise ConfigError(f"--check must be >= 0, got {check}")
    require_export_extra()
    run, _ = Run.open(run_dir)
    candidates = [checkpoint] + (["last"] if checkpoint == "best" else [])
    if not any(run.checkpoint(name).is_file() for name in candidates):
        raise CheckpointError(f"{run.path} has no checkpoint to export (no checkpoints/{checkpoint}.pt"
                              f"{' or last.pt' if checkpoint == 'best' else ''}); train it first")
    learner = load_learner(run.path, checkpoint)
    try:
        exportable = exportable_of(learner, run.algo)
        try:
            write_onnx(exportable, out)
        except UserError:
            raise
        except Exception as error:  # the tracer's own errors: say what failed, in one line
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ConfigError(f"could not export this {run.algo} network to ONNX ({first[:200]})") from None
        differences = check_onnx(exportable, out, n=check) if check else {}
    finally:
        learner.close()
    return {"path": str(out), "algo": run.algo, "description": exportable.description,
            "inputs": exportable.input_names, "outputs": exportable.output_names, "checked_inputs": check,
            "max_abs_difference": differences}
