"""Does `gymforge tune` find PPO settings for CartPole-v1 that beat the defaults on seeds the search never saw?

1. `gymforge tune ppo --env CartPole-v1 --preset none` (the config's defaults are trial 0's starting point):
   --trials trials of --search-seeds seeds x --steps steps, median pruner, objective the mean final evaluation.
2. On held-out training seeds (100, 101, 102: not used by the search, and so their evaluation episodes are
   other episodes too), train the defaults, the tuned config (the --write-preset file) and, for reference, the
   hand-tuned CartPole-v1 preset, each for the same --steps; then evaluate each final checkpoint (last.pt) on
   --episodes greedy episodes. The figure is the mean final return per config; the comparison is tuned vs
   defaults per seed and in the mean.
Progress lines go to stderr/stdout; the LAST line is one JSON object.

    python benchmarks/tune_cartpole.py [--trials 16] [--steps 25000] [--search-seeds 2] [--held-out 100 101 102]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from gymforge.app import api  # noqa: E402
from gymforge.app.tune import add_arguments, tune  # noqa: E402
from gymforge.engine.config import read_config_file  # noqa: E402

ENV_ID = "CartPole-v1"


def final_return(config_values: dict, preset: str, seed: int, logdir: Path, name: str, episodes: int) -> float:
    config = api.make_config("ppo", {**config_values, "seed": seed}, preset)
    run = api.train("ppo", config, name=name, logdir=logdir, progress_bar=False)
    learner = api.load_learner(run.path, "last", eval_episodes=episodes)
    try:
        return float(learner.evaluate()["mean_return"])
    finally:
        learner.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--steps", type=int, default=25_000)
    parser.add_argument("--search-seeds", type=int, default=2)
    parser.add_argument("--held-out", type=int, nargs="+", default=[100, 101, 102])
    parser.add_argument("--episodes", type=int, default=50, help="greedy episodes per final evaluation")
    parser.add_argument("--logdir", type=Path, default=Path("runs"))
    options = parser.parse_args()
    torch.set_num_threads(1)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"bench-ppo-cartpole-{stamp}"
    preset_file = options.logdir / f"tune-{name}" / "best.yaml"

    tune_parser = argparse.ArgumentParser()
    add_arguments(tune_parser)
    tune_args = tune_parser.parse_args(["ppo", "--env", ENV_ID, "--trials", str(options.trials), "--steps",
                                        str(options.steps), "--seeds", str(options.search_seeds), "--name", name,
                                        "--logdir", str(options.logdir), "--set", "eval_episodes=10",
                                        "--write-preset", str(preset_file)])
    started = time.perf_counter()
    study = tune(tune_args)
    tune_seconds = time.perf_counter() - started
    states = [trial.state.name for trial in study.trials]

    _, tuned_values = read_config_file(preset_file)
    base = {"env": ENV_ID, "steps": options.steps, "eval_every": options.steps}
    configs = {"defaults": (base, "none"), "tuned": ({**tuned_values, "eval_every": options.steps}, "none"),
               "preset": (base, "auto")}
    held_out_dir = options.logdir / f"tune-{name}" / "held-out"
    results: dict[str, list[float]] = {key: [] for key in configs}
    started = time.perf_counter()
    for seed in options.held_out:
        for key, (values, preset) in configs.items():
            value = final_return(values, preset, seed, held_out_dir, f"{key}-seed-{seed}", options.episodes)
            results[key].append(value)
            print(f"held-out seed {seed}: {key:<8} final return {value:.1f} ({options.episodes} episodes)", flush=True)
    held_out_seconds = time.perf_counter() - started
    means = {key: statistics.fmean(values) for key, values in results.items()}
    for key, mean in means.items():
        print(f"{key:<8} mean final return over seeds {options.held_out}: {mean:.1f}  {results[key]}")
    print(json.dumps({
        "env": ENV_ID, "steps": options.steps, "trials": options.trials, "search_seeds": options.search_seeds,
        "held_out_seeds": options.held_out, "episodes": options.episodes,
        "complete": states.count("COMPLETE"), "pruned": states.count("PRUNED"), "failed": states.count("FAIL"),
        "best_trial": study.best_trial.number, "best_search_value": study.best_value,
        "best_params": study.best_trial.params,
        "held_out_final_return": results, "held_out_mean": means,
        "tuned_minus_defaults": means["tuned"] - means["defaults"],
        "tuned_at_least_defaults": means["tuned"] >= means["defaults"],
        "tune_wall_clock_s": round(tune_seconds, 1), "held_out_wall_clock_s": round(held_out_seconds, 1)}))


if __name__ == "__main__":
    main()
