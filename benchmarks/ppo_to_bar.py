"""Shared by ppo_pendulum.py and ppo_lunarlander.py: train one gymforge PPO run with an env's preset and report
the env steps and wall-clock (evaluation included) to the first evaluation at or over a bar, and the final one.

    nice -n 5 python benchmarks/ppo_to_bar.py --env Pendulum-v1 --bar -250 [--seed 0] [--steps N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run_to_bar(env: str, bar: float, budget: int, seed: int = 0, **options) -> dict:
    """Train to `budget` steps (stopping early once over the bar); evaluations follow the preset's eval_every."""
    from gymforge.app.api import build_learner, make_config

    torch.set_num_threads(1)
    config = make_config("ppo", {"env": env, "steps": budget, "seed": seed, **options})
    started = time.perf_counter()
    learner = build_learner("ppo", config)
    next_eval, figures = config.eval_every, {"env": env, "bar": bar, "budget": budget, "seed": seed,
                                             "steps_to_bar": None, "seconds_to_bar": None}
    while learner.progress < budget:
        learner.train_step()
        if learner.progress >= next_eval or learner.progress >= budget:
            next_eval = (learner.progress // config.eval_every + 1) * config.eval_every
            score = learner.evaluate()["mean_return"]
            elapsed = time.perf_counter() - started
            print(f"{env}: {learner.progress:>8} steps  {elapsed:7.1f} s  eval mean return {score:8.1f}", flush=True)
            figures.update(final_steps=learner.progress, final_eval=round(score, 1), final_seconds=round(elapsed, 1))
            if score >= bar:
                figures.update(steps_to_bar=learner.progress, seconds_to_bar=round(elapsed, 1))
                break
    learner.close()
    return figures


def main(env: str | None = None, bar: float | None = None, budget: int | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=env, required=env is None)
    parser.add_argument("--bar", type=float, default=bar, required=bar is None)
    parser.add_argument("--steps", type=int, default=budget, required=budget is None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(run_to_bar(args.env, args.bar, args.steps, args.seed)))


if __name__ == "__main__":
    main()
