"""Real environment steps (and wall-clock) to a bar: the world model (controller trained only in the dream)
against gymforge's model-free PPO from the same pixels, side by side in one run, over seeds.

    python benchmarks/world_model.py                       # gymforge/Catch-v0, bar: catch rate >= 0.9, seeds 0 1 2
    python benchmarks/world_model.py --env CartPole-v1 --bar 195 --metric mean_return --wm-steps 20000 --ppo-steps 20000
    python benchmarks/world_model.py --env CarRacing-v3 --metric mean_return --bar 900 --only worldmodel --minutes 60 --seeds 0

The bar is checked after every world-model iteration and every --ppo-check-every PPO steps, on 100 episodes of
the test split (seeds apart from training and from the validation episodes that pick best.pt). Wall-clock counts
training only (evaluation excluded), one torch thread each, on a shared machine; --minutes stops a side once its
training has used that much CPU time (process time, so other jobs on the machine do not shrink the budget; the
last iteration finishes and is evaluated). --hold trains on to the end of the budget after the bar is reached and
reports whether the last evaluation still holds it (touching a bar once is not solving). The last line is one
JSON object. Its medians and their bootstrap 95% intervals (benchmarks/stats.py) count a seed that never reached
the bar as never (null where a figure lands on one): a median over the seeds that did would hide the others.
With both sides, each seed's ratio of real steps is given too, with how many seeds came within one fifth of PPO.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmarks.stats import ratio, summarize  # noqa: E402
from gymforge.app import api  # noqa: E402


def evaluate(learner: Any) -> dict[str, float]:
    try:
        return learner.evaluate("test")
    except TypeError:  # a learner without splits (before the shared evaluate contract reached it)
        return learner.evaluate()


def real_steps(learner: Any, progress_before: int) -> int:
    """The real environment steps of the train_step that moved learner.progress from `progress_before`. PPO's
    progress counts every vector-env step, but in Gymnasium's NEXT_STEP autoreset mode the step after an
    episode's end only resets that env: its rollout marks those steps invalid, and they are not real steps. The
    world model plays whole episodes itself, so its progress is its real steps."""
    from gymforge.agents.ppo import PPO

    if isinstance(learner, PPO):
        return int(learner.buffer.valid.sum())
    return learner.progress - progress_before


def to_bar(algo: str, env: str, seed: int, budget: int, metric: str, bar: float, check_every: int,
           options: dict[str, Any], minutes: float | None = None, hold: bool = False) -> dict[str, Any]:
    """Train until evaluate()[metric] >= bar (with `hold`, on to the end), or the budget of real steps (or of
    training minutes) is spent."""
    config = api.make_config(algo, {"env": env, "seed": seed, "steps": budget, "eval_episodes": 100, **options})
    learner = api.build_learner(algo, config)
    train_time, cpu_time, next_check, history, steps = 0.0, 0.0, check_every, [], 0
    cpu_budget, final = float("inf") if minutes is None else 60 * minutes, None
    result = {"algo": algo, "seed": seed, "reached": False, "steps": None, "wall_clock_s": None}
    try:
        while steps < budget and cpu_time < cpu_budget:  # real steps (PPO: no autoreset steps)
            started, cpu_started, before = time.perf_counter(), time.process_time(), learner.progress
            metrics = learner.train_step()
            steps += real_steps(learner, before)
            train_time += time.perf_counter() - started
            cpu_time += time.process_time() - cpu_started
            if steps < next_check and steps < budget and cpu_time < cpu_budget:
                continue
            next_check = steps + check_every
            figures = evaluate(learner)
            final = figures[metric]
            history.append((steps, round(final, 3), round(train_time), round(cpu_time)))
            extra = "".join(f" {key} {figures[key]:.3g}" for key in ("dream_return", "latent_error_h1",
                                                                      "frame_error_h5", "reward_error",
                                                                      "end_probability_at_ends",
                                                                      "end_probability_elsewhere")
                            if key in figures)
            extra += "".join(f" {key.replace('/', '_')} {metrics[key]:.3g}" for key in ("collect/return",
                                                                                  "deploy/best_return")
                             if key in metrics)  # the world model's real return in collection, and the judge's
            print(f"  {algo} seed {seed}: {steps} real steps, {train_time:.0f} s ({cpu_time:.0f} s CPU), "
                  f"{metric} {figures[metric]:.3f}{extra}", flush=True)
            if figures[metric] >= bar and not result["reached"]:
                result.update(reached=True, steps=steps, wall_clock_s=round(train_time, 1),
                              cpu_s_to_bar=round(cpu_time, 1), figures={k: round(v, 4) for k, v in figures.items()})
                if not hold:
                    break
    finally:
        learner.close()
    result.update(history=history, final_steps=steps, train_s=round(train_time, 1), cpu_s=round(cpu_time, 1),
                  final=final, held=final is not None and final >= bar)  # measured, not rounded, against the bar
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="gymforge/Catch-v0")
    parser.add_argument("--metric", default="success_rate")
    parser.add_argument("--bar", type=float, default=0.9)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--wm-steps", type=int, default=5_000, help="real-step budget of the world model")
    parser.add_argument("--ppo-steps", type=int, default=60_000, help="real-step budget of PPO")
    parser.add_argument("--ppo-check-every", type=int, default=1_024)
    parser.add_argument("--wm", nargs="*", default=[], help="world-model options KEY=VALUE")
    parser.add_argument("--ppo", nargs="*", default=[], help="PPO options KEY=VALUE")
    parser.add_argument("--only", choices=["worldmodel", "ppo"], default=None)
    parser.add_argument("--minutes", type=float, default=None, help="CPU-minutes of training per side")
    parser.add_argument("--hold", action="store_true", help="train on to the budget's end after reaching the bar")
    args = parser.parse_args()
    torch.set_num_threads(1)
    import yaml

    def options(pairs: list[str]) -> dict[str, Any]:
        return {key: yaml.safe_load(value) for key, value in (pair.split("=", 1) for pair in pairs)}

    results: dict[str, list[dict[str, Any]]] = {"worldmodel": [], "ppo": []}
    for seed in args.seeds:  # the two sides alternate, so they share the machine's load alike
        if args.only in (None, "worldmodel"):
            print(f"worldmodel seed {seed}", flush=True)
            results["worldmodel"].append(to_bar("worldmodel", args.env, seed, args.wm_steps, args.metric, args.bar,
                                                1, options(args.wm), args.minutes, args.hold))
        if args.only in (None, "ppo"):
            print(f"ppo seed {seed}", flush=True)
            results["ppo"].append(to_bar("ppo", args.env, seed, args.ppo_steps, args.metric, args.bar,
                                         args.ppo_check_every, options(args.ppo), args.minutes, args.hold))
    summary: dict[str, Any] = {"env": args.env, "metric": args.metric, "bar": args.bar, "seeds": args.seeds}
    for algo, runs in results.items():
        if not runs:
            continue
        reached = [r for r in runs if r["reached"]]
        summary[algo] = {"reached": f"{len(reached)}/{len(runs)}",
                         "steps": [r["steps"] for r in runs], "wall_clock_s": [r["wall_clock_s"] for r in runs],
                         "final_steps": [r["final_steps"] for r in runs], "cpu_s": [r["cpu_s"] for r in runs],
                         "final": [r["final"] for r in runs],
                         "steps_to_bar": summarize([r["steps"] for r in runs]),
                         "cpu_s_to_bar": summarize([r.get("cpu_s_to_bar") for r in runs]),
                         "history": {r["seed"]: r["history"] for r in runs}}
        if args.hold:
            summary[algo]["held_at_end"] = f"{sum(r['held'] for r in runs)}/{len(runs)}"
        print(f"{algo}: reached {len(reached)}/{len(runs)}, steps {summary[algo]['steps']}, "
              f"wall-clock {summary[algo]['wall_clock_s']} s", flush=True)
    if results["worldmodel"] and results["ppo"]:
        wm, ppo = results["worldmodel"], results["ppo"]
        summary["real_step_ratio_wm_over_ppo"] = ratio([r["steps"] for r in wm], [r["steps"] for r in ppo])
        summary["cpu_ratio_wm_over_ppo"] = ratio([r.get("cpu_s_to_bar") for r in wm],
                                                 [r.get("cpu_s_to_bar") for r in ppo])
        per_seed = [round(a["steps"] / b["steps"], 3) if a["reached"] and b["reached"] else None
                    for a, b in zip(wm, ppo)]
        summary["real_step_ratio_per_seed"] = per_seed
        summary["within_one_fifth"] = f"{sum(r is not None and r <= 0.2 for r in per_seed)}/{len(per_seed)}"
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
