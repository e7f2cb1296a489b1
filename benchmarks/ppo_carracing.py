"""Does gymforge's PPO (CarRacing-v3 preset: pixels, 5 discrete actions) drive clearly better than a random
policy? Agent steps (each holds its action for the preset's frame_skip frames), greedy return and wall-clock,
beside a uniformly random policy (same action repeat) on the same episodes.

The random policy and every evaluation play --eval-episodes whole episodes on seeds 10_000 + i (never used in
training). Training stops at --steps or after --minutes, whichever comes first (evaluation time included);
progress lines print as they come. Last line: one JSON object with the curve, the random policy's return and
the best-minus-random gap. Needs the `box2d` extra.

    nice -n 5 python benchmarks/ppo_carracing.py [--steps 250000] [--minutes 90] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ppo_mujoco import play  # noqa: E402  (one evaluator for both PPO benchmarks)


def main() -> None:
    from gymforge.app.api import build_learner, make_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=250_000, help="agent steps")
    parser.add_argument("--minutes", type=float, default=90.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=25_000)
    parser.add_argument("--eval-episodes", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = make_config("ppo", {"env": "CarRacing-v3", "steps": args.steps, "seed": args.seed}, preset="CarRacing-v3")
    started = time.perf_counter()
    learner = build_learner("ppo", config)
    rng = np.random.default_rng(args.seed)
    random_return = play(learner.eval_env, lambda _: int(rng.integers(learner.eval_env.action_space.n)),
                         args.eval_episodes)
    print(f"random policy: mean return {random_return:.1f} over {args.eval_episodes} episodes "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    curve, next_eval, deadline = [], args.eval_every, started + 60 * args.minutes
    while learner.progress < args.steps and time.perf_counter() < deadline:
        learner.train_step()
        if learner.progress >= next_eval or learner.progress >= args.steps or time.perf_counter() >= deadline:
            next_eval += args.eval_every
            score = play(learner.eval_env, learner.policy(), args.eval_episodes)
            elapsed = time.perf_counter() - started
            curve.append([learner.progress, round(score, 1), round(elapsed, 1)])
            print(f"gymforge: {learner.progress:>8} steps  {elapsed:7.0f} s  greedy mean return {score:8.1f}",
                  flush=True)
    learner.close()
    best = max(curve, key=lambda point: point[1]) if curve else None
    print(json.dumps({"env": "CarRacing-v3", "preset": "CarRacing-v3", "seed": args.seed,
                      "frame_skip": config.frame_skip, "curve_columns": ["agent_steps", "return", "seconds"],
                      "eval_episodes": args.eval_episodes, "random_return": round(random_return, 1),
                      "curve": curve, "final_return": curve[-1][1] if curve else None,
                      "final_minus_random": round(curve[-1][1] - random_return, 1) if curve else None,
                      "best": best}))


if __name__ == "__main__":
    main()
