"""The one pattern every learner shares: its state under the same key names, closing, and the Python API in
Stable-Baselines3's shape:

    agent = PPO("CartPole-v1", seed=0, n_envs=4).learn(20_000)   # a run folder under runs/, the CLI's Trainer
    agent.save("ppo.pt"); agent = PPO.load("ppo.pt")             # or PPO.load("runs/<run>"): best.pt, else last.pt
    agent.predict(observation); agent.evaluate()                 # a Generator: VAE("digits").sample(16, seed=0)

A learner names its parts in `networks`, `optimizers` and `rngs` (its own random streams), and adds what only it
has in extra_state()/load_extra_state(); its progress is the attribute `progress`. Checkpoints then hold the keys
progress, networks, optimizers, rng and the extras, for every algorithm. The Python API never moves the caller's
global random state or thread count: a learner keeps its own global-RNG stream and swaps it in while it trains.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import torch

from gymforge.engine import session
from gymforge.engine.checkpoint import load_checkpoint, save_checkpoint
from gymforge.engine.config import TrainConfig, config_from_dict, config_to_dict
from gymforge.engine.errors import CheckpointError, ConfigError, UserError, require
from gymforge.engine.registry import algorithm_of, get_algorithm
from gymforge.engine.run import Run

EMPTY: Mapping[str, Any] = MappingProxyType({})


class Constructor(type):
    """`Algo(config, device)` as the Trainer builds it, or `Algo(env_or_data, **options)` as a notebook does:
    defaults < the subject's preset < options (gymforge.engine.registry's rule), built under the config's seed."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if (args and isinstance(args[0], TrainConfig)) or "config" in kwargs:
            return super().__call__(*args, **kwargs)
        algorithm = algorithm_of(cls)
        if len(args) > 1 or (args and not isinstance(args[0], str | Path)):
            example = "CartPole-v1" if algorithm.kind == "agent" else "digits"
            raise ConfigError(f"{cls.__name__} takes one {algorithm.subject_field} name and options as keywords, "
                              f"e.g. {cls.__name__}({example!r}, seed=0)")
        values = {**({algorithm.subject_field: str(args[0])} if args else {}), **kwargs}
        return session.build(cls, algorithm.make_config(values))


class Estimator(metaclass=Constructor):
    """Mixed into every learner: state_dict/load_state_dict/close, and learn/predict/save/load."""

    config: TrainConfig
    progress: int = 0
    """What the budget counts (environment steps or images seen); saved as "progress"."""
    networks: Mapping[str, torch.nn.Module] = EMPTY
    optimizers: Mapping[str, torch.optim.Optimizer] = EMPTY
    rngs: Mapping[str, np.random.Generator | torch.Generator] = EMPTY
    """The learner's own random streams, saved under "rng"."""
    horizon: int | None = None
    """The progress the schedules anneal over (gymforge.engine.learner.Learner.horizon); set by the Trainer."""
    global_rng: dict[str, Any] | None = None
    """The global python/numpy/torch stream this learner trains in under the Python API (None: the process's)."""
    trainer: Any = None
    score_key: ClassVar[str]

    def schedule_fraction(self, over: float = 1.0) -> float:
        """progress / (over * horizon) in [0, 1]; the horizon is config.steps until the engine sets it."""
        horizon = (self.horizon or self.config.steps) * over
        return min(self.progress / max(horizon, 1.0), 1.0)

    # ---- state ------------------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        """What only this learner saves (counters, buffers, statistics); tensors and primitives only."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore extra_state(); runs after networks, optimizers, progress and rng are loaded."""

    def state_dict(self) -> dict[str, Any]:
        rng = {name: stream.bit_generator.state if isinstance(stream, np.random.Generator) else stream.get_state()
               for name, stream in self.rngs.items()}
        return {"progress": self.progress, "horizon": self.horizon, "networks": {name: net.state_dict() for name, net in self.networks.items()},
                "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()}, "rng": rng,
                **self.extra_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        name = algorithm_of(type(self)).name
        for key in ("progress", "networks", "optimizers", "rng"):
            if key not in state:
                raise CheckpointError(f"the checkpoint has no {key!r}: an older gymforge wrote it, or not for {name}")
        for part, loadable in (*self.networks.items(), *self.optimizers.items()):
            saved = state["networks" if isinstance(loadable, torch.nn.Module) else "optimizers"].get(part)
            try:
                if saved is None:
                    raise KeyError(f"it has no {part!r}")
                loadable.load_state_dict(saved)
            except (KeyError, RuntimeError, ValueError) as error:
                first = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
                raise ConfigError(f"the checkpoint's {part} does not fit this {name} config ({first}); "
                                  "use the config it was trained with") from None
        self.progress = int(state["progress"])
        self.horizon = state.get("horizon")  # None in checkpoints written before the engine owned it
        for part, stream in self.rngs.items():
            if part not in state["rng"]:  # a stream listed after the checkpoint was written keeps its fresh seed
                continue
            if isinstance(stream, np.random.Generator):
                stream.bit_generator.state = state["rng"][part]
            else:
                stream.set_state(state["rng"][part])
        self.load_extra_state(state)

    closes: ClassVar[tuple[str, ...]] = ()
    """The attributes holding what close() releases (environments, inner learners), named by each learner."""

    def close(self) -> None:
        """Close what `closes` names; a part a failed constructor never built is skipped."""
        for name in self.closes:
            part = getattr(self, name, None)
            if part is not None:
                part.close()

    # ---- the Python API ---------------------------------------------------------------------------------
    def learn(self, steps: int | None = None, logdir: str | Path | None = None, name: str | None = None,
              progress_bar: bool | None = None) -> Estimator:
        """Train `steps` more progress units with the CLI's Trainer, into a run folder: the first call makes it
        (logdir/name, logdir "runs" by default); later calls continue it, best.pt and its score included.

        The schedules anneal over the model's budget, `steps` as it was built (`PPO("CartPole-v1", steps=100_000)`,
        else its preset's), not over one call: learn(50_000) twice follows the curve of one learn(100_000).
        steps=None trains to the end of that budget. A call that goes past it extends the horizon to where the
        call ends, as `--resume --steps` does: the schedules are re-planned over the new horizon (fraction =
        progress / horizon), so a rate that had reached 0 picks up again (SB3's reset_num_timesteps=False)."""
        if steps is None:
            steps = (self.horizon or self.config.steps) - self.progress
            require(steps > 0, f"learn() has trained its whole budget ({self.progress} steps); "
                               "give learn(steps) to train further")
        require(isinstance(steps, int) and steps > 0, f"learn(steps) needs a positive number of steps, got {steps!r}")
        if self.trainer is not None:
            run = self.trainer.run.path
            require((logdir is None or Path(logdir) == run.parent) and name in (None, run.name),
                    f"learn() continues its run folder {run}; a new logdir or name needs a new {type(self).__name__}")
        run = (self.trainer.run if self.trainer is not None
               else session.create_run(algorithm_of(type(self)).name, self.config, logdir or "runs", name))
        session.fit(self, run, until=self.progress + steps, close=False, progress_bar=progress_bar)
        return self

    def predict(self, observation: Any) -> Any:
        """Stable-Baselines3's name for act(): the greedy action for one observation."""
        act = getattr(self, "act", None)
        if act is None:
            raise UserError(f"{algorithm_of(type(self)).name} is a generator: it has no actions; use sample(n)")
        return act(observation)

    @property
    def run_path(self) -> Path | None:
        """The run folder learn() writes to (None before the first learn())."""
        return None if self.trainer is None else self.trainer.run.path

    def save(self, path: str | Path) -> Path:
        """One file: the algorithm, its config, progress, the learner's state and its RNG stream."""
        path = Path(path)
        save_checkpoint(path, {"algo": algorithm_of(type(self)).name, "config": config_to_dict(self.config),
                               "progress": self.progress, "learner": self.state_dict(),
                               **({"rng": self.global_rng} if self.global_rng is not None else {})})
        return path

    @classmethod
    def load(cls, path: str | Path, checkpoint: str = "best", **overrides: Any) -> Any:
        """A learner from save()'s file or a run folder (checkpoints/best.pt, else last.pt); `overrides` change
        config options such as eval_episodes. Never reseeds the caller's process."""
        return load_learner(path, checkpoint, expected=algorithm_of(cls).name, **overrides)


def read_saved(path: str | Path, checkpoint: str = "best") -> tuple[str, dict[str, Any], dict[str, Any], str]:
    """(algo, config values, checkpoint, where the config came from) of a save() file or a run folder; a run
    folder's config is its config.yaml and its checkpoint best.pt, falling back to last.pt."""
    path = Path(path)
    if not path.is_dir():
        state = load_checkpoint(path)
        if "algo" not in state or "learner" not in state:
            raise CheckpointError(f"{path} is a gymforge checkpoint but not a learner's (no algo and learner)")
        return state["algo"], dict(state["config"]), state, str(path)
    run, values = Run.open(path)
    file = run.checkpoint(checkpoint)
    if not file.exists() and checkpoint == "best":
        file = run.checkpoint("last")
    return run.algo, values, load_checkpoint(file), str(run.path / "config.yaml")


def load_learner(path: str | Path, checkpoint: str = "best", expected: str | None = None, **overrides: Any) -> Any:
    """The learner saved at `path`, built under its seed with the caller's RNG states and threads untouched."""
    algo, values, state, source = read_saved(path, checkpoint)
    if expected is not None and algo != expected:
        raise CheckpointError(f"{path} holds a {algo}, not a {expected}; load it with {algo}'s class")
    learner_class, config_class = get_algorithm(algo).load()
    config = config_from_dict(config_class, {**values, **overrides}, source=source)
    learner = session.build(learner_class, config, state.get("rng"))
    learner.load_state_dict(state["learner"])
    return learner
