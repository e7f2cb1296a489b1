"""Steps and wall-clock to a STABLE solve of CartPole-v1: gymforge's PPO (its preset) against Stable-Baselines3's PPO
with the RL Zoo's tuned hyperparameters, in the same script run.

Both train the whole 100k-step budget, interleaved seed by seed, and are judged by the same code
(benchmarks/stats.py): every 5,000 env steps, 20 greedy episodes played side by side in a vector env (episode
seeds from the "evaluation" stream, never the training seeds). Per seed: the first solve (first evaluation with
mean return >= 475), the STABLE solve (the first evaluation after which every later one through the budget
stays >= 475; the headline) and the final return of the last policy over 100 fresh episodes (the "test"
stream). Wall-clock runs from building the agent, evaluation time included. Across seeds: median and IQM with
bootstrap 95% intervals, and gymforge/SB3 ratios with theirs. Both libraries are imported and run once before
the clocks start; one torch thread each. The preset was chosen on seeds 0-4, so the reported seeds are 5-9.
Needs the `bench` extra (stable-baselines3). Last line: one JSON object.

    python benchmarks/ppo_cartpole.py [--seeds 5 6 7 8 9] [--only gymforge|sb3] [--set option=value ...]
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.stats import Curve, Evaluator, compare, race_arguments, table  # noqa: E402

ENV_ID, BUDGET, EVAL_EVERY, EVAL_EPISODES, FINAL_EPISODES, SOLVED = "CartPole-v1", 100_000, 5_000, 20, 100, 475.0
# RL Baselines3 Zoo, hyperparams/ppo.yml, CartPole-v1 (tuned): lin_ means linear decay to 0 over the budget.
ZOO = {"n_envs": 8, "n_steps": 32, "batch_size": 256, "gae_lambda": 0.8, "gamma": 0.98, "n_epochs": 20,
       "ent_coef": 0.0, "learning_rate": 0.001, "clip_range": 0.2}


class Race:
    """One run's clock and evaluation cadence."""

    def __init__(self, name: str, seed: int) -> None:
        self.name, self.seed = name, seed
        self.started = time.perf_counter()
        self.next_eval = EVAL_EVERY
        self.evaluator, self.curve = Evaluator(ENV_ID, EVAL_EPISODES, seed), Curve(SOLVED)

    def maybe_evaluate(self, steps: int, act: Callable[[np.ndarray], np.ndarray]) -> None:
        if steps < self.next_eval:
            return
        score = self.evaluator(act)
        self.next_eval = (steps // EVAL_EVERY + 1) * EVAL_EVERY
        elapsed = time.perf_counter() - self.started
        self.curve.add(steps, elapsed, score)
        print(f"  {self.name} seed {self.seed}: {steps:>6} steps  {elapsed:6.1f} s  eval {score:6.1f}", flush=True)

    def finish(self, steps: int, act: Callable[[np.ndarray], np.ndarray]) -> dict:
        seconds = time.perf_counter() - self.started
        final = Evaluator(ENV_ID, FINAL_EPISODES, self.seed, stream="test")
        training = seconds - self.evaluator.seconds
        row = {"library": self.name, "seed": self.seed, "bar": SOLVED, **self.curve.figures(),
               "final_return": final(act), "run_s": round(seconds, 2), "eval_s": round(self.evaluator.seconds, 2),
               "train_sps": round(steps / training, 1)}
        final.close()
        self.evaluator.close()
        print(f"[{self.name} seed {self.seed}] first solve {row['first_solve_steps']}, stable solve "
              f"{row['stable_solve_steps']} steps ({row['stable_solve_s']} s), final return "
              f"{row['final_return']:.1f} (run {seconds:.1f} s)", flush=True)
        return row


def run_gymforge(seed: int, overrides: dict) -> dict:
    from gymforge.app.api import build_learner, make_config

    race = Race("gymforge", seed)
    learner = build_learner("ppo", make_config("ppo", {"env": ENV_ID, "seed": seed, "steps": BUDGET, **overrides}))

    @torch.no_grad()
    def act(observations: np.ndarray) -> np.ndarray:
        return learner.model.policy_distribution(torch.as_tensor(observations, dtype=torch.float32)).mode.numpy()

    while learner.progress < BUDGET:
        learner.train_step()
        race.maybe_evaluate(learner.progress, act)
    learner.close()
    return race.finish(learner.progress, act)


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

    def act(observations: np.ndarray) -> np.ndarray:
        return model.predict(observations, deterministic=True)[0]

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            race.maybe_evaluate(self.num_timesteps, act)
            return True

    model.learn(BUDGET, callback=Evaluate())
    env.close()
    return race.finish(model.num_timesteps, act)


def warm_up() -> None:
    """Import both libraries and run one short update of each before any clock starts, so neither pays
    the first run's one-off costs (module imports, torch's first kernels) inside its figures."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from gymforge.app.api import build_learner, make_config

    learner = build_learner("ppo", make_config("ppo", {"env": ENV_ID, "seed": 999}))
    learner.train_step()
    learner.close()
    env = make_vec_env(ENV_ID, n_envs=ZOO["n_envs"], seed=999)
    PPO("MlpPolicy", env, n_steps=ZOO["n_steps"], batch_size=ZOO["batch_size"], device="cpu").learn(256)
    env.close()


def main() -> None:
    args, overrides = race_arguments(__doc__.splitlines()[0])
    torch.set_num_threads(1)
    warm_up()
    libraries = [args.only] if args.only else ["gymforge", "sb3"]
    runs: dict[str, list[dict]] = {library: [] for library in libraries}
    for seed in args.seeds:  # interleaved, so a busy period of the shared machine hits both alike
        for library in libraries:
            runs[library].append(run_gymforge(seed, overrides) if library == "gymforge" else run_sb3(seed))
    for library, rows in runs.items():
        print(table(rows, library), flush=True)
    summary: dict = {"benchmark": "ppo_cartpole", "env": ENV_ID, "budget_steps": BUDGET, "eval_every": EVAL_EVERY,
                     "eval_episodes": EVAL_EPISODES, "final_episodes": FINAL_EPISODES, "solved_return": SOLVED,
                     "seeds": args.seeds, "torch_threads": 1, "machine": f"{platform.machine()}, shared",
                     "gymforge_overrides": overrides, **compare(runs)}
    summary["per_seed"] = {library: [{k: v for k, v in row.items() if k != "curve"} for row in rows]
                           for library, rows in runs.items()}
    summary["curves"] = {library: {row["seed"]: row["curve"] for row in rows} for library, rows in runs.items()}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
