"""Environment steps and wall-clock to solve CartPole-v1: gymforge's DQN (its preset) against Stable-Baselines3's DQN.

SB3 runs with the RL Baselines3 Zoo's tuned CartPole-v1 hyperparameters (hyperparams/dqn.yml). Both are judged
the same way, by the same code: every 2,500 environment steps, 20 greedy episodes (played side by side in a
vector env, one batched forward per step), and "solved" is the first evaluation with mean return >= 475,
within a 50,000-step budget (a run that never gets there reports null). Wall-clock runs from building the
agent to the end of the solving evaluation, evaluation time included. Both use one torch thread on the CPU.
Needs the `bench` extra (stable-baselines3). Progress lines go to stdout; the LAST line is one JSON object.

    python benchmarks/dqn_cartpole.py [--seeds 0 1 2 3 4] [--only gymforge|sb3] [--set option=value ...]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

ENV_ID = "CartPole-v1"
SOLVED = 475.0
EVAL_EVERY = 2_500
EVAL_EPISODES = 20
BUDGET = 50_000
SB3_ZOO = {  # rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1 (n_timesteps 5e4)
    "learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000, "learning_starts": 1_000, "gamma": 0.99,
    "target_update_interval": 10, "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
    "exploration_final_eps": 0.04, "policy_kwargs": {"net_arch": [256, 256]},
}


class Evaluator:
    """20 greedy episodes side by side; the same seeds every time, so both libraries face the same starts."""

    def __init__(self, seed: int) -> None:
        self.envs = gym.vector.SyncVectorEnv([lambda: gym.make(ENV_ID)] * EVAL_EPISODES)
        self.seed = seed
        self.seconds = 0.0

    def __call__(self, greedy: Callable[[np.ndarray], np.ndarray]) -> float:
        """Mean return of each sub-env's first episode under greedy((N, 4) observations) -> (N,) actions."""
        started = time.perf_counter()
        observations, _ = self.envs.reset(seed=self.seed + 10_000)
        returns = np.zeros(EVAL_EPISODES)
        running = np.ones(EVAL_EPISODES, dtype=bool)
        while running.any():
            observations, rewards, terminated, truncated, _ = self.envs.step(greedy(observations))
            returns += rewards * running
            running &= ~(terminated | truncated)
        self.seconds += time.perf_counter() - started
        return float(returns.mean())


def result(library: str, seed: int, solved_at: int | None, started: float, evaluator: Evaluator,
           last_return: float) -> dict:
    seconds = time.perf_counter() - started
    line = (f"solved at {solved_at} steps in {seconds:.1f} s" if solved_at else
            f"not solved in {BUDGET} steps ({seconds:.1f} s, last eval {last_return:.1f})")
    print(f"[{library} seed {seed}] {line} (evaluation {evaluator.seconds:.1f} s)", flush=True)
    return {"seed": seed, "solved_at_steps": solved_at, "wall_clock_s": round(seconds, 2) if solved_at else None,
            "run_s": round(seconds, 2), "eval_s": round(evaluator.seconds, 2), "last_eval_return": last_return}


def run_gymforge(seed: int, overrides: dict) -> dict:
    from agents.dqn import DQN
    from gymforge.api import make_config
    from gymforge.seeding import seed_everything

    seed_everything(seed)
    started = time.perf_counter()
    config = make_config("dqn", {"env": ENV_ID, "seed": seed, "steps": BUDGET, "eval_every": EVAL_EVERY,
                                 "checkpoint_every": 0, "log_every": EVAL_EVERY, **overrides})
    learner = DQN(config)
    evaluator = Evaluator(seed)
    next_eval, mean_return = EVAL_EVERY, float("nan")
    try:
        while learner.progress < BUDGET:
            learner.train_step()  # stops at each multiple of eval_every
            if learner.progress >= next_eval:
                next_eval += EVAL_EVERY
                mean_return = evaluator(learner.greedy_actions)
                print(f"  gymforge seed {seed} step {learner.progress}: eval {mean_return:.1f} "
                      f"({time.perf_counter() - started:.1f} s)", flush=True)
                if mean_return >= SOLVED:
                    return result("gymforge", seed, learner.progress, started, evaluator, mean_return)
    finally:
        learner.close()
    return result("gymforge", seed, None, started, evaluator, mean_return)


def run_sb3(seed: int) -> dict:
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    class EvalAndStop(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.solved_at: int | None = None
            self.mean_return = float("nan")

        def _on_step(self) -> bool:
            if self.num_timesteps % EVAL_EVERY:
                return True
            self.mean_return = evaluator(lambda obs: self.model.predict(obs, deterministic=True)[0])
            print(f"  sb3 seed {seed} step {self.num_timesteps}: eval {self.mean_return:.1f} "
                  f"({time.perf_counter() - started:.1f} s)", flush=True)
            if self.mean_return >= SOLVED:
                self.solved_at = self.num_timesteps
                return False
            return True

    torch.manual_seed(seed)
    started = time.perf_counter()
    model = DQN("MlpPolicy", ENV_ID, seed=seed, device="cpu", verbose=0, **SB3_ZOO)
    evaluator = Evaluator(seed)
    callback = EvalAndStop()
    model.learn(BUDGET, callback=callback)
    model.get_env().close()
    return result("sb3", seed, callback.solved_at, started, evaluator, callback.mean_return)


def median_time(runs: list[dict]) -> float:
    """Median wall-clock to solve, a run that never solves counting as infinitely slow."""
    return statistics.median(run["wall_clock_s"] if run["wall_clock_s"] is not None else math.inf for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--only", choices=["gymforge", "sb3"], default=None, help="run one side only")
    parser.add_argument("--set", nargs="*", default=[], metavar="OPTION=VALUE",
                        help="override gymforge options (YAML values), e.g. --set learning_rate=1e-3")
    args = parser.parse_args()
    torch.set_num_threads(1)
    overrides = {key: yaml.safe_load(value) for key, value in (item.split("=", 1) for item in args.set)}
    overrides = {key: tuple(value) if isinstance(value, list) else value for key, value in overrides.items()}
    figures: dict = {"benchmark": "dqn_cartpole", "env": ENV_ID, "budget_steps": BUDGET, "solved_return": SOLVED,
                     "eval_every": EVAL_EVERY, "eval_episodes": EVAL_EPISODES, "torch_threads": 1,
                     "machine": f"{platform.processor() or platform.machine()}, shared, {torch.get_num_threads()} "
                                "torch thread", "gymforge_overrides": overrides}
    libraries = [args.only] if args.only else ["gymforge", "sb3"]
    runs: dict[str, list[dict]] = {library: [] for library in libraries}
    for seed in args.seeds:  # interleaved, so both see the same machine load over time
        for library in libraries:
            runs[library].append(run_gymforge(seed, overrides) if library == "gymforge" else run_sb3(seed))
    for library, library_runs in runs.items():
        figures[library] = library_runs
        figures[f"{library}_solved"] = sum(run["solved_at_steps"] is not None for run in library_runs)
        figures[f"{library}_median_wall_clock_s"] = median_time(library_runs)
    if len(libraries) == 2:
        ratio = figures["gymforge_median_wall_clock_s"] / figures["sb3_median_wall_clock_s"]
        figures["median_wall_clock_ratio"] = round(ratio, 3) if math.isfinite(ratio) else None
        figures["per_seed_ratio"] = [
            round(g["wall_clock_s"] / s["wall_clock_s"], 3) if g["wall_clock_s"] and s["wall_clock_s"] else None
            for g, s in zip(runs["gymforge"], runs["sb3"])]
    for key, value in list(figures.items()):
        if isinstance(value, float) and not math.isfinite(value):
            figures[key] = None  # JSON has no infinity: an unsolved median is null
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
