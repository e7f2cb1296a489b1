"""Does gymforge's PPO learn MuJoCo locomotion (Hopper-v5, HalfCheetah-v5) within 1M env steps, beside
Stable-Baselines3's PPO on the RL Baselines3 Zoo's tuned settings, in the same script run?

Both libraries train one run per seed at the same time (one process each, so both share the machine's load);
every --eval-every env steps each is evaluated the same way: --eval-episodes deterministic episodes on the
same episode seeds (10_000 + i, never used in training), observations normalized with the run's frozen
statistics. Progress lines print as they come; the last line is one JSON object: per library the evaluation
curve, the final figure, training seconds, steps/s, and the wall-clock ratio gymforge/SB3.
gymforge runs its preset; the Hopper-v5 preset is not the Zoo's recipe (see agents/presets/ppo.yaml), so that
ratio compares recipes as well as libraries. For the libraries alone, give gymforge the Zoo's values with --set
(ZOO below, plus hidden_sizes=[256,256] activation=relu log_std_init=-2).
Needs the `mujoco` and `bench` extras.

    nice -n 5 python benchmarks/ppo_mujoco.py --env Hopper-v5 [--steps 1000000] [--seed 0] [--skip-sb3]
        [--set OPTION=VALUE ...]   (overrides of gymforge's preset; SB3 keeps the Zoo's settings)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.stats import parse_overrides  # noqa: E402

EVAL_SEED = 10_000
# RL Baselines3 Zoo, hyperparams/ppo.yml (Hopper-v3 / HalfCheetah-v3, tuned), with normalize: true (VecNormalize
# with gamma = the PPO gamma) and policy_kwargs log_std_init=-2, ortho_init=False, ReLU, pi=vf=[256, 256].
ZOO = {
    "Hopper-v5": {"n_steps": 512, "batch_size": 32, "gamma": 0.999, "learning_rate": 9.80828e-05,
                  "ent_coef": 0.00229519, "clip_range": 0.2, "n_epochs": 5, "gae_lambda": 0.99,
                  "max_grad_norm": 0.7, "vf_coef": 0.835671},
    "HalfCheetah-v5": {"n_steps": 512, "batch_size": 64, "gamma": 0.98, "learning_rate": 2.0633e-05,
                       "ent_coef": 0.000401762, "clip_range": 0.1, "n_epochs": 20, "gae_lambda": 0.92,
                       "max_grad_norm": 0.8, "vf_coef": 0.58096},
}
# The Zoo's published 1M-step figures (benchmark.md, the -v3 envs): mean return of its trained agent.
ZOO_FIGURE = {"Hopper-v5": 2410.0, "HalfCheetah-v5": 5819.0}


def play(env: gym.Env, act: Callable[[np.ndarray], np.ndarray], episodes: int) -> float:
    """Mean return of `episodes` deterministic episodes on seeds EVAL_SEED + i."""
    returns = []
    for index in range(episodes):
        observation, _ = env.reset(seed=EVAL_SEED + index)
        total, done = 0.0, False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(act(observation))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def report(name: str, steps: int, started: float, eval_seconds: float, score: float, curve: list) -> None:
    elapsed = time.perf_counter() - started
    curve.append([steps, round(score, 1), round(elapsed - eval_seconds, 1)])
    print(f"{name:>8}: {steps:>8} steps  train {elapsed - eval_seconds:7.0f} s  eval mean return {score:8.1f}",
          flush=True)


def run_gymforge(env_id: str, steps: int, seed: int, eval_every: int, episodes: int, overrides: dict) -> dict:
    from gymforge.app.api import build_learner, make_config

    torch.set_num_threads(1)
    config = make_config("ppo", {**overrides, "env": env_id, "steps": steps, "seed": seed}, preset=env_id)
    learner = build_learner("ppo", config)
    started, eval_seconds, curve, next_eval = time.perf_counter(), 0.0, [], eval_every
    while learner.progress < steps:
        learner.train_step()
        if learner.progress >= next_eval or learner.progress >= steps:
            next_eval += eval_every
            clock = time.perf_counter()
            policy = learner.policy()
            score = play(learner.eval_env, policy, episodes)
            eval_seconds += time.perf_counter() - clock
            report("gymforge", learner.progress, started, eval_seconds, score, curve)
    train_seconds = time.perf_counter() - started - eval_seconds
    learner.close()
    return {"curve": curve, "final": curve[-1][1], "train_seconds": round(train_seconds, 1),
            "steps_per_second": round(learner.progress / train_seconds, 1)}


def run_sb3(env_id: str, steps: int, seed: int, eval_every: int, episodes: int, _overrides: dict) -> dict:
    """SB3 on the Zoo's settings; `_overrides` are gymforge's alone (the same argument list as run_gymforge)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(1)
    hyper = ZOO[env_id]
    envs = VecNormalize(make_vec_env(env_id, n_envs=1, seed=seed), gamma=hyper["gamma"])
    eval_env = gym.make(env_id)
    state = {"started": time.perf_counter(), "eval_seconds": 0.0, "curve": [], "next": eval_every}

    def act(observation: np.ndarray) -> np.ndarray:
        action, _ = model.predict(envs.normalize_obs(observation[None]), deterministic=True)
        return action[0]

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps >= state["next"]:
                state["next"] += eval_every
                clock = time.perf_counter()
                score = play(eval_env, act, episodes)
                state["eval_seconds"] += time.perf_counter() - clock
                report("sb3", self.num_timesteps, state["started"], state["eval_seconds"], score, state["curve"])
            return True

    model = PPO("MlpPolicy", envs, seed=seed, device="cpu", verbose=0, **hyper,
                policy_kwargs={"log_std_init": -2, "ortho_init": False, "activation_fn": torch.nn.ReLU,
                               "net_arch": {"pi": [256, 256], "vf": [256, 256]}})
    state["started"] = time.perf_counter()
    model.learn(steps, callback=Evaluate())
    train_seconds = time.perf_counter() - state["started"] - state["eval_seconds"]
    curve = state["curve"]
    return {"curve": curve, "final": curve[-1][1] if curve else None, "train_seconds": round(train_seconds, 1),
            "steps_per_second": round(steps / train_seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Hopper-v5", choices=sorted(ZOO))
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=50_000)
    parser.add_argument("--eval-episodes", type=int, default=5)
    parser.add_argument("--skip-sb3", action="store_true", help="gymforge alone (beside the Zoo's published figure)")
    parser.add_argument("--set", nargs="*", default=[], metavar="OPTION=VALUE",
                        help="override gymforge's preset (YAML values), e.g. --set log_std_init=0")
    args = parser.parse_args()
    overrides = parse_overrides(args.set)
    arguments = (args.env, args.steps, args.seed, args.eval_every, args.eval_episodes, overrides)
    runs = {"gymforge": run_gymforge} if args.skip_sb3 else {"gymforge": run_gymforge, "sb3": run_sb3}
    with mp.get_context("fork").Pool(len(runs)) as pool:
        pending = {name: pool.apply_async(run, arguments) for name, run in runs.items()}
        results = {name: result.get() for name, result in pending.items()}
    figures = {"env": args.env, "steps": args.steps, "seed": args.seed, "zoo_published": ZOO_FIGURE[args.env],
               "gymforge_overrides": overrides,
               **results}
    if "sb3" in results:
        figures["wall_clock_ratio_gymforge_over_sb3"] = round(
            results["gymforge"]["train_seconds"] / results["sb3"]["train_seconds"], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
