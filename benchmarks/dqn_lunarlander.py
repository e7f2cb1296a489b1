"""Does gymforge's DQN (its LunarLander-v3 preset) reach a mean greedy return >= 200, and how fast?

One gymforge run with the preset: every 10,000 environment steps, 20 greedy episodes with the learner's own
evaluate(); reports the steps and wall-clock (evaluation included) to the first evaluation >= 200, and the
final evaluation. The reference is the task's own bar: 200 is "solved" in Gymnasium's LunarLander docs.
Needs the box2d extra. Progress lines go to stdout; the LAST line is one JSON object.

    python benchmarks/dqn_lunarlander.py [--seed 0] [--steps N] [--set option=value ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

ENV_ID = "LunarLander-v3"
SOLVED = 200.0


def main() -> None:
    from gymforge.agents.dqn import DQN

    from gymforge.app.api import make_config
    from gymforge.engine.seeding import seed_everything

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="budget (default: the preset's)")
    parser.add_argument("--set", nargs="*", default=[], metavar="OPTION=VALUE", help="override preset options")
    args = parser.parse_args()
    torch.set_num_threads(1)
    overrides = {key: yaml.safe_load(value) for key, value in (item.split("=", 1) for item in args.set)}
    overrides = {key: tuple(value) if isinstance(value, list) else value for key, value in overrides.items()}
    if args.steps:
        overrides["steps"] = args.steps
    seed_everything(args.seed)
    started = time.perf_counter()
    config = make_config("dqn", {"env": ENV_ID, "seed": args.seed, "checkpoint_every": 0, **overrides})
    learner = DQN(config)
    first_solved, evaluations = None, []
    next_eval = config.eval_every
    while learner.progress < config.steps:
        learner.train_step()  # stops at each multiple of eval_every
        if learner.progress >= next_eval or learner.progress >= config.steps:
            next_eval += config.eval_every
            figures = learner.evaluate()
            seconds = time.perf_counter() - started
            evaluations.append({"steps": learner.progress, "mean_return": round(figures["mean_return"], 1),
                                "wall_clock_s": round(seconds, 1)})
            print(f"step {learner.progress}: mean greedy return {figures['mean_return']:.1f} "
                  f"+- {figures['std_return']:.1f} ({seconds:.0f} s)", flush=True)
            if first_solved is None and figures["mean_return"] >= SOLVED:
                first_solved = evaluations[-1]
    learner.close()
    final = evaluations[-1]
    print(json.dumps({"benchmark": "dqn_lunarlander", "env": ENV_ID, "seed": args.seed, "budget_steps": config.steps,
                      "eval_every": config.eval_every, "eval_episodes": config.eval_episodes, "solved_return": SOLVED,
                      "first_solved_steps": first_solved and first_solved["steps"],
                      "first_solved_wall_clock_s": first_solved and first_solved["wall_clock_s"],
                      "final_mean_return": final["mean_return"], "wall_clock_s": final["wall_clock_s"],
                      "best_mean_return": max(e["mean_return"] for e in evaluations), "overrides": overrides,
                      "torch_threads": 1, "machine": "shared 2-core CPU"}))


if __name__ == "__main__":
    main()
