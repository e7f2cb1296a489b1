"""How fast does gymforge's PPO solve CartPole-v1, against Stable-Baselines3's PPO with the RL Zoo's tuned
hyperparameters, in the same script run?

For seeds 0..4 both train up to 100k env steps; every 5,000 env steps both are evaluated the same way (20
greedy episodes, played as one batch by a shared evaluator, evaluation time included in the wall-clock);
CartPole-v1 counts as solved at the first evaluation with mean return >= 475 (never solved: null). Throughput
is env steps per second of training (rollouts and updates, evaluation excluded). Both libraries are imported
and run once before the clocks start. Needs the `bench` extra (stable-baselines3). Last line: one JSON object
with per-seed figures and the median ratios gymforge/SB3.

    nice -n 5 python benchmarks/ppo_cartpole.py [--seeds 0 1 2 3 4]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ENV_ID, BUDGET, EVAL_EVERY, EVAL_EPISODES, SOLVED = "CartPole-v1", 100_000, 5_000, 20, 475.0
# RL Baselines3 Zoo, hyperparams/ppo.yml, CartPole-v1 (tuned): lin_ means linear decay to 0 over the budget.
ZOO = {"n_envs": 8, "n_steps": 32, "batch_size": 256, "gae_lambda": 0.8, "gamma": 0.98, "n_epochs": 20,
       "ent_coef": 0.0, "learning_rate": 0.001, "clip_range": 0.2}


def greedy_return(act: Callable[[np.ndarray], np.ndarray], seed: int) -> float:
    """Mean return of EVAL_EPISODES greedy episodes, one env each, stepped together with batched actions."""
    envs = [gym.make(ENV_ID) for _ in range(EVAL_EPISODES)]
    observations = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
    returns, active = np.zeros(len(envs)), np.ones(len(envs), dtype=bool)
    while active.any():
        indices = np.flatnonzero(active)
        actions = act(observations[indices])
        for index, action in zip(indices, actions):
            observation, reward, terminated, truncated, _ = envs[index].step(int(action))
            observations[index] = observation
            returns[index] += reward
            active[index] = not (terminated or truncated)
    return float(returns.mean())


class Race:
    """Evaluation cadence and the clock shared by both contestants."""

    def __init__(self, name: str, seed: int) -> None:
        self.name, self.seed = name, seed
        self.started = time.perf_counter()
        self.eval_time, self.next_eval = 0.0, EVAL_EVERY
        self.solved_steps: int | None = None
        self.solved_seconds: float | None = None

    def maybe_evaluate(self, steps: int, act: Callable[[np.ndarray], np.ndarray]) -> bool:
        """Evaluate when steps passed the next multiple of EVAL_EVERY; True once solved."""
        if steps < self.next_eval:
            return False
        began = time.perf_counter()
        score = greedy_return(act, seed=10_000 + self.seed)
        self.eval_time += time.perf_counter() - began
        self.next_eval = (steps // EVAL_EVERY + 1) * EVAL_EVERY
        elapsed = time.perf_counter() - self.started
        print(f"  {self.name} seed {self.seed}: {steps:>6} steps  {elapsed:6.1f} s  eval {score:6.1f}", flush=True)
        if score >= SOLVED:
            self.solved_steps, self.solved_seconds = steps, round(elapsed, 2)
            return True
        return False

    def figures(self, steps: int) -> dict[str, float | int | None]:
        training = time.perf_counter() - self.started - self.eval_time
        return {"steps_to_solve": self.solved_steps, "seconds_to_solve": self.solved_seconds,
                "train_sps": round(steps / training, 1)}


def run_gymforge(seed: int) -> dict:
    from gymforge.api import build_learner, make_config

    config = make_config("ppo", {"env": ENV_ID, "seed": seed, "steps": BUDGET})
    race = Race("gymforge", seed)
    learner = build_learner("ppo", config)

    @torch.no_grad()
    def act(observations: np.ndarray) -> np.ndarray:
        return learner.model(torch.as_tensor(observations, dtype=torch.float32))[0].mode.numpy()

    while learner.progress < BUDGET:
        learner.train_step()
        if race.maybe_evaluate(learner.progress, act):
            break
    learner.close()
    return race.figures(learner.progress)


def run_sb3(seed: int) -> dict:
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    def linear(start: float) -> Callable[[float], float]:
        return lambda progress_remaining: progress_remaining * start

    race = Race("sb3", seed)
    options = dict(ZOO)
    env = make_vec_env(ENV_ID, n_envs=options.pop("n_envs"), seed=seed)
    model = PPO("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **{
        **options, "learning_rate": linear(options["learning_rate"]), "clip_range": linear(options["clip_range"])})

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            return not race.maybe_evaluate(self.num_timesteps,
                                           lambda obs: model.predict(obs, deterministic=True)[0])

    model.learn(BUDGET, callback=Evaluate())
    env.close()
    return race.figures(model.num_timesteps)


def warm_up() -> None:
    """Import both libraries and run one short update of each before any clock starts, so neither pays
    the first run's one-off costs (module imports, torch's first kernels) inside its figures."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from gymforge.api import build_learner, make_config

    learner = build_learner("ppo", make_config("ppo", {"env": ENV_ID, "seed": 999}))
    learner.train_step()
    learner.close()
    env = make_vec_env(ENV_ID, n_envs=ZOO["n_envs"], seed=999)
    PPO("MlpPolicy", env, n_steps=ZOO["n_steps"], batch_size=ZOO["batch_size"], device="cpu").learn(256)
    env.close()


def median_or_none(values: list) -> float | None:
    """Median with never-solved seeds (None) counted as worse than any solved one; None if it lands on one."""
    middle = statistics.median([math.inf if value is None else value for value in values])
    return None if math.isinf(middle) else middle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    torch.set_num_threads(1)
    warm_up()
    results: dict[str, dict[int, dict]] = {"gymforge": {}, "sb3": {}}
    for seed in args.seeds:  # interleaved, so a busy period of the shared machine hits both alike
        for name, run in (("gymforge", run_gymforge), ("sb3", run_sb3)):
            results[name][seed] = figures = run(seed)
            print(f"{name} seed {seed}: {figures}", flush=True)
    summary: dict = {"env": ENV_ID, "budget": BUDGET, "eval_every": EVAL_EVERY, "solved_at": SOLVED,
                     "per_seed": {name: {str(k): v for k, v in runs.items()} for name, runs in results.items()}}
    for key in ("steps_to_solve", "seconds_to_solve", "train_sps"):
        medians = {name: median_or_none([r[key] for r in runs.values()]) for name, runs in results.items()}
        summary[f"median_{key}"] = medians
        ratio = medians["gymforge"] / medians["sb3"] if None not in medians.values() else None
        summary[f"ratio_{key}_gymforge_over_sb3"] = None if ratio is None else round(ratio, 3)
    summary["solved_seeds"] = {name: sum(r["steps_to_solve"] is not None for r in runs.values())
                               for name, runs in results.items()}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
