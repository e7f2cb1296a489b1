"""Environment steps per second with random actions: CartPole-v1 and gymforge Catch, 1 and 8 envs, sync and async.

The reference is a bare `gymnasium.make("CartPole-v1")` stepped in a plain loop; every other figure is also
given as a ratio against it. Progress lines go to stdout while it runs; the LAST line is one JSON object.

    python benchmarks/env_throughput.py [--seconds 2.0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
import gymforge.envs  # noqa: F401  registers gymforge/Catch-v0


def _time_single(env: gym.Env, seconds: float) -> float:
    """Steps per second of one env, resetting when an episode ends."""
    rng = np.random.default_rng(0)
    actions = rng.integers(env.action_space.n, size=100_000)
    env.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for action in actions[steps % 90_000 : steps % 90_000 + 1000]:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        steps += 1000
    return steps / (time.perf_counter() - start)


def _time_vector(vec_env: gym.vector.VectorEnv, seconds: float) -> float:
    """Environment steps per second (batch steps x num_envs); the vector env resets itself (NEXT_STEP)."""
    rng = np.random.default_rng(0)
    actions = rng.integers(vec_env.single_action_space.n, size=(1000, vec_env.num_envs))
    vec_env.reset(seed=0)
    for action in actions[:20]:  # warm-up: async workers, first resets
        vec_env.step(action)
    batches, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for action in actions[:100]:
            vec_env.step(action)
        batches += 100
    elapsed = time.perf_counter() - start
    vec_env.close()
    return batches * vec_env.num_envs / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent on each measurement")
    seconds = parser.parse_args().seconds

    results: dict[str, float] = {}

    def report(name: str, steps_per_second: float) -> None:
        results[name] = round(steps_per_second)
        print(f"{name:<32} {steps_per_second:>12,.0f} steps/s", flush=True)

    report("raw CartPole-v1", _time_single(gym.make("CartPole-v1").unwrapped, seconds))
    report("make_env CartPole-v1", _time_single(envs.make_env("CartPole-v1"), seconds))
    report("make_env gymforge/Catch-v0", _time_single(envs.make_env("gymforge/Catch-v0"), seconds))
    for env_id in ("CartPole-v1", "gymforge/Catch-v0"):
        for n_envs in (1, 8):
            for vectorization in ("sync", "async"):
                vec_env = envs.make_vec_env(env_id, n_envs=n_envs, seed=0, vectorization=vectorization)
                report(f"{env_id} x{n_envs} {vectorization}", _time_vector(vec_env, seconds))

    reference = results["raw CartPole-v1"]
    summary = {
        "steps_per_second": results,
        "ratio_to_raw_cartpole": {name: round(value / reference, 3) for name, value in results.items()},
        "seconds_per_measurement": seconds,
        "cpu_cores": os.cpu_count(),
        "python": platform.python_version(),
        "gymnasium": gym.__version__,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
