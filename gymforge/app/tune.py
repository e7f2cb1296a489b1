"""Hyperparameter search on Optuna (the `tune` extra): `gymforge tune ALGO --env ID --trials N`.

Each algorithm's search space lives beside its presets as <package>/search/<algo>.yaml (an option per line:
a list of choices, or {float: [low, high], log: true} / {int: [low, high]}), overridable with --space FILE.
Every trial trains K seeds, each a normal run folder runs/tune-<name>/trial-NNNN-seed-S, through the one
Trainer; its evaluations feed Optuna's pruner, which stops bad trials early. The study lives in a storage
(sqlite by default, in the tune folder), so running the same command again resumes it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import sys
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gymforge.engine import session
from gymforge.engine.config import TrainConfig, config_to_dict, read_config_file
from gymforge.engine.errors import ConfigError, NonFiniteError
from gymforge.engine.registry import Algorithm, get_algorithm

OBJECTIVES = ("final", "auc")
PRUNERS = ("median", "halving", "none")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("algo", help="algorithm to tune (see `gymforge list`)")
    parser.add_argument("--env", default=None, help="environment id (agents)")
    parser.add_argument("--data", default=None, help="dataset (generative models)")
    parser.add_argument("--trials", type=int, default=20, help="trials in the study, counting earlier runs of it "
                        "(default 20)")
    parser.add_argument("--steps", type=int, default=None, help="training budget of each seed of a trial "
                        "(default: the config's)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per trial, --seed, --seed+1, ... (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="first training seed, also the sampler's (default 0)")
    parser.add_argument("--jobs", type=int, default=1, help="trials run at once, in threads (default 1)")
    parser.add_argument("--storage", default=None, help="Optuna storage URL (default sqlite:///LOGDIR/tune-NAME/"
                        "study.db); the same command and storage resume the study")
    parser.add_argument("--name", default=None, help="study name (default ALGO-ENV): runs go to LOGDIR/tune-NAME/")
    parser.add_argument("--logdir", type=Path, default=Path("runs"))
    parser.add_argument("--objective", choices=OBJECTIVES, default="final",
                        help="final: mean of the last evaluation over the seeds (default); auc: mean area under "
                        "the evaluation curve (rewards learning fast)")
    parser.add_argument("--pruner", choices=PRUNERS, default="median",
                        help="median (default), halving (successive halving) or none")
    parser.add_argument("--evaluations", type=int, default=5, help="evaluations per seed, the points the pruner "
                        "sees (default 5; sets eval_every to steps / N)")
    parser.add_argument("--space", type=Path, default=None, metavar="FILE",
                        help="YAML search space merged over the algorithm's own (an option set to null is dropped)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="fix an option for every trial (YAML value; repeatable); a fixed option is not searched")
    parser.add_argument("--preset", default="none", help="start from this preset (auto: the one named after "
                        "--env; default none: the config's defaults)")
    parser.add_argument("--write-preset", type=Path, default=None, metavar="FILE",
                        help="write the best trial's full config to FILE, for `gymforge train --config FILE`")
    parser.add_argument("--top", type=int, default=20, help="rows in the final table (default 20)")


# ---- search spaces ---------------------------------------------------------------------------------------
def default_space(algorithm: Algorithm) -> dict[str, Any]:
    """<package>/search/<algo>.yaml beside the algorithm's presets, or {} when it has none."""
    path = resources.files(algorithm.package) / "search" / f"{algorithm.name}.yaml"
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def load_space(algorithm: Algorithm, config_class: type, space_file: Path | None,
               fixed: dict[str, Any]) -> dict[str, Any]:
    space = default_space(algorithm)
    source = f"{algorithm.package.removeprefix('gymforge.')}/search/{algorithm.name}.yaml"
    if space_file is not None:
        _, overrides = read_config_file(space_file)
        space = {**space, **overrides}
        space = {key: spec for key, spec in space.items() if spec is not None}
        source = str(space_file)
    if not space and space_file is None:
        raise ConfigError(f"{algorithm.name} has no search space ({source} does not exist); give one with --space "
                          "FILE, e.g. learning_rate: {float: [1.0e-4, 1.0e-2], log: true}")
    fields = {field.name for field in dataclasses.fields(config_class)}
    for key, spec in space.items():
        if key not in fields:
            raise ConfigError(f"unknown option {key!r} in the search space {source}; valid options: "
                              f"{', '.join(sorted(fields))}")
        check_spec(key, spec, source)
    space = {key: spec for key, spec in space.items() if key not in fixed}
    if not space:
        raise ConfigError(f"nothing left to search: every option of {source} is fixed by --set")
    return space


def check_spec(key: str, spec: Any, source: str) -> None:
    """A list of choices, or {float: [low, high]} / {int: [low, high]} with optional log: true."""
    if isinstance(spec, list) and spec:
        return
    if isinstance(spec, dict) and len(set(spec) & {"float", "int"}) == 1 and set(spec) <= {"float", "int", "log"}:
        bounds = spec.get("float", spec.get("int"))
        if (isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, (int, float)) for b in bounds)
                and bounds[0] < bounds[1] and not (spec.get("log") and bounds[0] <= 0)):
            return
    raise ConfigError(f"search space {source}: {key} must be a list of choices or {{float: [low, high]}} / "
                      f"{{int: [low, high]}} with low < high (log: true needs low > 0; write 1.0e-4, not 1e-4), "
                      f"got {spec!r}")


def suggest(trial: Any, space: dict[str, Any]) -> dict[str, Any]:
    """One value per option; lists (e.g. hidden sizes) are offered to Optuna as their JSON text."""
    values = {}
    for key, spec in space.items():
        if isinstance(spec, list):
            if all(choice is None or isinstance(choice, (bool, int, float, str)) for choice in spec):
                values[key] = trial.suggest_categorical(key, spec)
            else:
                values[key] = json.loads(trial.suggest_categorical(key, [json.dumps(choice) for choice in spec]))
        elif "float" in spec:
            values[key] = trial.suggest_float(key, *map(float, spec["float"]), log=bool(spec.get("log")))
        else:
            values[key] = trial.suggest_int(key, *map(int, spec["int"]), log=bool(spec.get("log")))
    return values


def starting_params(space: dict[str, Any], base: TrainConfig) -> dict[str, Any]:
    """The base config's values in Optuna's terms, for those inside the space: trial 0 tries the starting point."""
    params, values = {}, config_to_dict(base)
    for key, spec in space.items():
        value = values[key]
        if isinstance(spec, list):
            simple = all(choice is None or isinstance(choice, (bool, int, float, str)) for choice in spec)
            if value in spec:
                params[key] = value if simple else json.dumps(value)
        elif spec.get("float", spec.get("int"))[0] <= value <= spec.get("float", spec.get("int"))[1]:
            params[key] = value
    return params


# ---- the objective -----------------------------------------------------------------------------------
def curve_area(curve: list[tuple[int, float]]) -> float:
    """Area under an evaluation curve per unit of progress (the mean score over it; one point is itself)."""
    if len(curve) == 1:
        return curve[0][1]
    progress, scores = np.array(curve, dtype=float).T
    trapezoids = (scores[1:] + scores[:-1]) / 2 * np.diff(progress)
    return float(trapezoids.sum() / (progress[-1] - progress[0]))


def seed_value(curve: list[tuple[int, float]], objective: str) -> float:
    return curve[-1][1] if objective == "final" else curve_area(curve)


class Objective:
    """Trains K seeds of one trial's config in turn; reports the running objective at every evaluation."""

    def __init__(self, algo: str, base_values: dict[str, Any], preset: str, space: dict[str, Any], seeds: list[int],
                 objective: str, folder: Path, score_key: str, evaluations: int) -> None:
        self.stride = 2 * evaluations + 2  # report steps per seed: room for every evaluation, the last one too
        self.algo, self.base_values, self.preset, self.space = algo, base_values, preset, space
        self.seeds, self.objective, self.folder, self.score_key = seeds, objective, folder, score_key

    def __call__(self, trial: Any) -> float:
        import optuna

        from gymforge.app.api import build_learner, make_config

        trial.set_user_attr("pid", os.getpid())
        trial.set_user_attr("host", socket.gethostname())
        params = suggest(trial, self.space)
        try:
            config = make_config(self.algo, {**self.base_values, **params}, self.preset)
        except ConfigError as error:  # a combination the config refuses (e.g. a batch that does not divide)
            trial.set_user_attr("note", f"invalid: {error}")
            raise optuna.TrialPruned() from None
        steps = config.steps
        finished: list[float] = []
        for index, seed in enumerate(self.seeds):
            seed_config = dataclasses.replace(config, seed=seed)
            learner = build_learner(self.algo, seed_config)
            run = session.create_run(self.algo, seed_config, self.folder, f"trial-{trial.number:04d}-seed-{seed}")
            if learner.score_key != self.score_key:
                learner.close()
                raise ConfigError(f"this trial's options make {self.algo} score {learner.score_key}, not "
                                  f"{self.score_key}, so trials would not compare; fix the option that changes it "
                                  "with --set")
            curve: list[tuple[int, float]] = []
            pruned = []  # the pruner's verdict; a run that stops without it reached --stop-at

            def on_evaluate(progress: int, figures: dict[str, float], index: int = index,
                            curve: list[tuple[int, float]] = curve) -> bool:
                if self.score_key not in figures:
                    raise ConfigError(f"{self.algo}'s evaluation gives no {self.score_key} here (it gave "
                                      f"{', '.join(figures) or 'nothing'}), so there is nothing to tune against")
                curve.append((progress, float(figures[self.score_key])))
                running = float(np.mean(finished + [seed_value(curve, self.objective)]))
                # Steps count evaluations (seed after seed), so trials with other rollout sizes line up.
                trial.report(running, step=index * self.stride + len(curve) - 1)
                trial.set_user_attr("reached", index * steps + progress)
                if trial.should_prune():
                    pruned.append(progress)
                return bool(pruned)

            try:
                summary = session.fit(learner, run, progress_bar=False, on_evaluate=on_evaluate)
            except NonFiniteError as error:
                trial.set_user_attr("note", f"diverged: {str(error)[:80]}")
                raise optuna.TrialPruned() from None
            if summary["status"] == "interrupted":
                raise KeyboardInterrupt
            if pruned:
                trial.set_user_attr("note", f"pruned at seed {seed}, step {curve[-1][0]}")
                raise optuna.TrialPruned()
            if summary["status"] == "stopped":  # it reached --stop-at: a complete seed, scored as it stands
                trial.set_user_attr("note", f"reached --stop-at at seed {seed}, step {curve[-1][0]}")
            finished.append(seed_value(curve, self.objective))
        trial.set_user_attr("seed_values", finished)
        return float(np.mean(finished))


# ---- the study ---------------------------------------------------------------------------------------
def make_pruner(name: str) -> Any:
    """Steps are evaluations: the median pruner stops a trial from its second evaluation on when its best report
    is below the median of the complete trials at that evaluation; successive halving keeps the top third."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    return optuna.pruners.NopPruner()


def fail_stale_trials(study: Any) -> int:
    """Trials left RUNNING by a killed tune on this machine (their process is gone) become FAIL, so a resumed
    study neither waits for nor counts them; their seeds' run folders stay as interrupted runs."""
    from optuna.trial import TrialState

    from gymforge.engine.run import pid_alive

    stale = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid, host = trial.user_attrs.get("pid"), trial.user_attrs.get("host")
        if host == socket.gethostname() and pid is not None and not pid_alive(int(pid)):
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            stale += 1
    return stale


def tune(args: argparse.Namespace) -> Any:
    """The `gymforge tune` command. Returns the study."""
    algorithm = get_algorithm(args.algo)
    learner_class, config_class = algorithm.load()
    subject_flag = algorithm.subject_field
    other_flag = "env" if subject_flag == "data" else "data"
    if getattr(args, other_flag):
        raise ConfigError(f"{args.algo} trains on --{subject_flag}, not --{other_flag}")
    for flag in ("trials", "seeds", "jobs", "evaluations", "top"):
        if getattr(args, flag) < 1:
            raise ConfigError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    fixed = parse_sets(args.set)
    space = load_space(algorithm, config_class, args.space, fixed)
    try:
        import optuna
    except ImportError:
        raise ConfigError("tune needs the tune extra (optuna): pip install 'gymforge[tune]'") from None

    from gymforge.app.api import make_config

    subject = getattr(args, subject_flag)
    base_values = {**fixed, **({subject_flag: subject} if subject else {})}
    if algorithm.kind == "agent":  # a trial's evaluations feed the pruner; nobody watches their videos
        base_values.setdefault("eval_video", False)
    if args.steps is not None:
        base_values["steps"] = args.steps
    base = make_config(args.algo, base_values, args.preset)
    eval_every = max(1, base.steps // args.evaluations)
    base_values.update(steps=base.steps, eval_every=eval_every, **{subject_flag: base.subject})
    base = make_config(args.algo, base_values, args.preset)
    name = args.name or f"{args.algo}-{base.subject.replace('/', '_')}"
    folder = args.logdir / f"tune-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    storage = args.storage or f"sqlite:///{folder / 'study.db'}"
    direction = "maximize" if learner_class.score_mode == "max" else "minimize"
    score_key = score_key_of(learner_class, base)
    settings = {"algo": args.algo, "subject": base.subject, "steps": base.steps, "seeds": args.seeds,
                "seed": args.seed, "objective": args.objective, "eval_every": eval_every, "preset": args.preset,
                "fixed": fixed, "space": space}

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # trials report through progress_line, in one line each
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    sampler = optuna.samplers.TPESampler(seed=args.seed, n_startup_trials=min(10, max(3, args.trials // 3)),
                                         multivariate=True)
    try:
        study = optuna.create_study(study_name=name, storage=storage, load_if_exists=True, direction=direction,
                                    sampler=sampler, pruner=make_pruner(args.pruner))
    except (ValueError, ImportError) as error:
        raise ConfigError(f"cannot open the study storage {storage}: {str(error).splitlines()[0]}") from None
    saved = study.user_attrs.get("settings")
    if saved is None:
        study.set_user_attr("settings", json.loads(json.dumps(settings)))
        study.enqueue_trial(starting_params(space, base), user_attrs={"note": "starting config"})
    elif saved != json.loads(json.dumps(settings)):
        changed = [key for key in settings if json.loads(json.dumps(settings[key])) != saved.get(key)]
        raise ConfigError(f"study {name} in {storage} was run with other settings ({', '.join(changed)}: "
                          f"{', '.join(f'{saved.get(k)!r}' for k in changed)}); repeat them to resume, or pick "
                          "another --name")
    stale = fail_stale_trials(study)
    done = count(study, ("COMPLETE", "PRUNED"))
    remaining = max(0, args.trials - done)
    print(f"tune {name}: {done} trials done{f', {stale} left running by a killed tune marked failed' if stale else ''}"
          f", {remaining} to run; {args.seeds} seed(s) x {base.steps} steps each, objective {args.objective} "
          f"{score_key} ({direction}), {args.pruner} pruner; runs in {folder}/", file=sys.stderr)
    objective = Objective(args.algo, base_values, args.preset, space,
                          [args.seed + index for index in range(args.seeds)], args.objective, folder,
                          score_key, args.evaluations)
    if remaining:
        try:
            study.optimize(objective, n_trials=remaining, n_jobs=args.jobs, callbacks=[progress_line])
        except KeyboardInterrupt:
            print(f"tune {name} stopped; the same command resumes it from {storage}", file=sys.stderr)
            raise
    print_table(study, args.top, score_key, args.objective)
    if args.write_preset is not None:
        write_preset(study, args.write_preset, args.algo, base_values, args.preset, space)
    return study


def score_key_of(learner_class: type, config: TrainConfig) -> str:
    """The figure trials are scored by. An option can change it (vae's likelihood=logistic scores bits per
    dimension), so it is read from a learner built on the config."""
    learner = session.build(learner_class, config)
    try:
        return learner.score_key
    finally:
        learner.close()


def parse_sets(pairs: list[str]) -> dict[str, Any]:
    fixed = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set takes KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        fixed[key.strip().lstrip("-").replace("-", "_")] = yaml.safe_load(value)
    return fixed


def count(study: Any, states: tuple[str, ...]) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=tuple(TrialState[state] for state in states)))


def progress_line(study: Any, trial: Any) -> None:
    value = f"{trial.value:.4g}" if trial.value is not None else "-"
    last = trial.intermediate_values[trial.last_step] if trial.last_step is not None else None
    detail = f" (last report {last:.4g})" if last is not None and trial.value is None else ""
    print(f"trial {trial.number}: {trial.state.name.lower()} {value}{detail}  {format_params(trial.params)}",
          file=sys.stderr)


def decode_params(params: dict[str, Any], space: dict[str, Any]) -> dict[str, Any]:
    """Optuna's params back to option values (list choices travel as JSON text, see suggest())."""
    return {key: json.loads(value) if isinstance(space.get(key), list) and isinstance(value, str)
            and value not in space[key] else value for key, value in params.items()}


def format_params(params: dict[str, Any]) -> str:
    return " ".join(f"{key}={value:.3g}" if isinstance(value, float) else f"{key}={value}"
                    for key, value in params.items())


def trial_rank(trial: Any, sign: float) -> tuple[int, float]:
    """Complete trials by value, then pruned ones by their last report, then the rest."""
    if trial.state.name == "COMPLETE":
        return 0, sign * trial.value
    if trial.state.name == "PRUNED" and trial.last_step is not None:
        return 1, sign * trial.intermediate_values[trial.last_step]
    return 2, float(trial.number)


def print_table(study: Any, top: int, score_key: str, objective: str) -> None:
    sign = -1.0 if study.direction.name == "MAXIMIZE" else 1.0
    trials = sorted(study.get_trials(deepcopy=False), key=lambda trial: trial_rank(trial, sign))
    states = {name: count(study, (name,)) for name in ("COMPLETE", "PRUNED", "FAIL", "RUNNING")}
    running = f", {states['RUNNING']} running" if states["RUNNING"] else ""
    print(f"\n{len(trials)} trials: {states['COMPLETE']} complete, {states['PRUNED']} pruned, {states['FAIL']} failed"
          f"{running}; objective {objective} {score_key}")
    print(f"{'trial':>5}  {'state':<8} {'value':>10} {'reached':>9}  params")
    for trial in trials[:top]:
        if trial.state.name == "COMPLETE":
            value = f"{trial.value:.4g}"
        elif trial.last_step is not None:
            value = f"({trial.intermediate_values[trial.last_step]:.4g})"
        else:
            value = "-"
        note = trial.user_attrs.get("note", "")
        note = f"  [{note}]" if note and trial.state.name != "COMPLETE" else ""
        reached = str(trial.user_attrs.get("reached", "-"))
        print(f"{trial.number:>5}  {trial.state.name.lower():<8} {value:>10} {reached:>9}  "
              f"{format_params(trial.params)}{note}")
    if len(trials) > top:
        print(f"... {len(trials) - top} more (--top N shows more)")
    print("(value: the objective of complete trials; in parentheses, the last report of a pruned one; reached: "
          "progress over all its seeds)")


def write_preset(study: Any, path: Path, algo: str, base_values: dict[str, Any], preset: str,
                 space: dict[str, Any]) -> None:
    from gymforge.app.api import make_config
    from gymforge.engine.config import save_config

    try:
        best = study.best_trial
    except ValueError:
        raise ConfigError("no trial completed, so there is no best config to write; run more --trials") from None
    params = decode_params(best.params, space)
    config = make_config(algo, {**base_values, **params}, preset)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_config(path, algo, config)
    header = (f"# gymforge tune {study.study_name}: trial {best.number}, objective {best.value:.6g}\n"
              f"# tuned: {format_params(params)}\n# train with: gymforge train --config {path}\n")
    path.write_text(header + path.read_text())
    print(f"wrote {path} (trial {best.number}); train it with: gymforge train --config {path}", file=sys.stderr)
