"""Playing whole episodes with a policy: evaluation figures (batched, in a vector env), watching and recording.

Evaluation protocol: every evaluation plays episodes whose seeds come from a named stream
(gymforge.engine.seeding.seed_stream), never from the training seeds:
  - "validation": what the Trainer evaluates during training to choose best.pt; the same episodes every time,
    so successive evaluations compare like with like.
  - "test": what `gymforge evaluate` and the Trainer's final evaluation report; episodes no selection has seen.
The streams cannot overlap: validation seeds lie in [2^30, 2^31), test seeds in [2^31, 2^32), and training
seeds (config.seed + i, and every stream_seed) below both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from gymforge.engine.errors import ConfigError
from gymforge.engine.seeding import seed_stream

# Environments whose reward is a success signal without an `is_success` info key: success = positive return.
SUCCESS_ON_POSITIVE_RETURN = {"FrozenLake-v1", "FrozenLake8x8-v1"}

# Split name (the stream's name) -> the lowest seed of the split's range of 2^30 seeds.
SPLITS = {"validation": 2**30, "test": 2**31}

# An episode with no time limit of its own (a greedy policy walking into a wall forever) is cut here. ALE games
# end themselves (v5: 108,000 emulator frames), so they are never cut below that.
MAX_STEPS_WITHOUT_LIMIT = 10_000

Policy = Callable[[Any], Any]
BatchPolicy = Callable[[Any, np.ndarray], np.ndarray]
"""(observations of N envs, starts: (N,) bool, True where an observation is an episode's first) -> (N,) actions."""


def episode_seeds(seed: int, split: str, count: int) -> list[int]:
    """`count` episode seeds of `split`'s stream for a run seeded `seed`: the same call gives the same seeds."""
    if split not in SPLITS:
        raise ConfigError(f"evaluation split must be one of {', '.join(SPLITS)}, got {split!r}")
    words = seed_stream(seed, split).generate_state(count, dtype=np.uint32)
    return [int(SPLITS[split] + (int(word) & (2**30 - 1))) for word in words]


@dataclass
class EpisodeResult:
    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)
    frames: list[np.ndarray] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """mean_return with its std and 95% interval (Student t), mean_length, episodes, and success_rate with
        its 95% interval (Wilson) where success is defined."""
        returns = np.asarray(self.returns, dtype=np.float64)
        n = len(returns)
        mean, std = float(returns.mean()), float(returns.std(ddof=1)) if n > 1 else 0.0
        half = t_quantile(n - 1) * std / math.sqrt(n) if n > 1 else 0.0
        figures = {"mean_return": mean, "std_return": std, "mean_return_ci95_low": mean - half,
                   "mean_return_ci95_high": mean + half, "mean_length": float(np.mean(self.lengths)),
                   "episodes": float(n)}
        if self.successes:
            low, high = wilson_interval(int(np.sum(self.successes)), len(self.successes))
            figures.update({"success_rate": float(np.mean(self.successes)), "success_rate_ci95_low": low,
                            "success_rate_ci95_high": high})
        return figures


# Student t's 97.5% quantiles for 1-30 degrees of freedom (beyond 30 a Cornish-Fisher expansion is exact to
# 1e-5): importing scipy.stats costs seconds, more than a whole evaluation.
T_975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788,
         2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639,
         2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t_quantile(degrees_of_freedom: int) -> float:
    """The 97.5% quantile of Student's t (the half-width factor of a two-sided 95% interval)."""
    if degrees_of_freedom <= len(T_975):
        return T_975[degrees_of_freedom - 1]
    z, n = 1.959964, float(degrees_of_freedom)
    return (z + (z**3 + z) / (4 * n) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * n**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * n**3))


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a success rate: stays inside [0, 1] and holds near 0 and 1."""
    if n == 0:
        return 0.0, 1.0
    if successes in (0, n):  # the closed form, without rounding noise at the bound
        bound = n / (n + z * z)
        return (0.0, 1.0 - bound) if successes == 0 else (bound, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def finished_episodes(infos: dict[str, Any]) -> list[tuple[float, int]]:
    """(return, length) of the episodes a vector env's step just ended, from RecordEpisodeStatistics' infos.

    make_env puts RecordEpisodeStatistics innermost, so these are the game's true returns (before reward
    clipping or normalisation).
    """
    if "episode" not in infos:
        return []
    mask = infos.get("_episode", np.ones(len(infos["episode"]["r"]), dtype=bool))
    return [(float(r), int(n)) for r, n, done in zip(infos["episode"]["r"], infos["episode"]["l"], mask) if done]


def episode_metrics(episodes: list[tuple[float, int]]) -> dict[str, float]:
    """rollout/ep_return and rollout/ep_length: the means over the episodes that ended (none -> no keys)."""
    if not episodes:
        return {}
    returns, lengths = zip(*episodes)
    return {"rollout/ep_return": float(np.mean(returns)), "rollout/ep_length": float(np.mean(lengths))}


def evaluate_greedy(agent: Any, split: str = "validation", batch: int = 32,
                    make_env: Callable[[], gym.Env] | None = None) -> dict[str, float]:
    """An agent's greedy policy over config.eval_episodes episodes of `split`'s seed stream for config.seed,
    played `batch` at a time in a vector env of agent.make_env() copies (or `make_env`'s, e.g. wrapped to record
    the episodes), one agent.batched_policy call a step."""
    config = agent.config
    seeds = episode_seeds(config.seed, split, config.eval_episodes)
    n_envs = min(batch, len(seeds))
    envs = SyncVectorEnv([make_env or agent.make_env] * n_envs, autoreset_mode=AutoresetMode.DISABLED)
    try:
        return play_batched(envs, agent.batched_policy(n_envs), seeds).figures()
    finally:
        envs.close()


def step_cap(env: gym.Env | gym.vector.VectorEnv) -> int | None:
    """MAX_STEPS_WITHOUT_LIMIT for an env with no time limit of its own; None (no cap) otherwise."""
    spec = env.envs[0].spec if isinstance(env, SyncVectorEnv) else getattr(env, "spec", None)
    if spec is None:
        return MAX_STEPS_WITHOUT_LIMIT
    if spec.max_episode_steps is not None or "ale_py" in str(spec.entry_point):
        return None
    return MAX_STEPS_WITHOUT_LIMIT


def play_batched(envs: SyncVectorEnv, policy: BatchPolicy, seeds: list[int],
                 max_steps: int | None | str = "auto") -> EpisodeResult:
    """Play one episode per seed in `envs` (autoreset DISABLED), len(envs) at a time, in seed order.

    Sub-env i takes the next seed as soon as its episode ends, so episode k always starts from seeds[k]
    whatever the lengths of the others; the result lists episodes in seed order.
    """
    if max_steps == "auto":
        max_steps = step_cap(envs)
    n_envs, n_episodes = envs.num_envs, len(seeds)
    spec_id = envs.envs[0].spec.id if envs.envs[0].spec else ""
    returns, lengths = np.zeros(n_episodes), np.zeros(n_episodes, dtype=np.int64)
    successes: list[bool | None] = [None] * n_episodes
    episode_of = np.full(n_envs, -1)  # which episode each sub-env plays (-1: idle)
    next_episode = 0

    def start(mask: np.ndarray) -> Any:
        nonlocal next_episode
        reset_seeds: list[int | None] = [None] * n_envs
        for index in np.flatnonzero(mask):
            if next_episode < n_episodes:
                episode_of[index], reset_seeds[index] = next_episode, seeds[next_episode]
                next_episode += 1
            else:
                episode_of[index] = -1
        return envs.reset(seed=reset_seeds, options={"reset_mask": mask})[0]

    observations = start(np.ones(n_envs, dtype=bool))
    starts = np.ones(n_envs, dtype=bool)
    while (episode_of >= 0).any():
        active = episode_of >= 0
        actions = policy(observations, starts)
        observations, rewards, terminated, truncated, infos = envs.step(actions)
        indices = episode_of[active]
        returns[indices] += rewards[active]
        lengths[indices] += 1
        ended = terminated | truncated
        if max_steps is not None:
            ended |= active & (lengths[np.maximum(episode_of, 0)] >= max_steps)
        done = ended & active
        for index in np.flatnonzero(done):
            episode = episode_of[index]
            if "is_success" in infos and infos.get("_is_success", np.ones(n_envs, bool))[index]:
                successes[episode] = bool(infos["is_success"][index])
            elif spec_id in SUCCESS_ON_POSITIVE_RETURN:
                successes[episode] = bool(returns[episode] > 0)
        starts = ended.copy()
        if ended.any():  # finished sub-envs take the next seed (or idle, reset, once every episode is dealt)
            observations = merge(observations, start(ended), ended)
    result = EpisodeResult(returns=returns.tolist(), lengths=lengths.tolist())
    if all(success is not None for success in successes):
        result.successes = [bool(success) for success in successes]
    return result


def merge(old: Any, new: Any, mask: np.ndarray) -> Any:
    """Observations of a vector env where `mask` picks the rows of `new` (arrays or dicts of arrays)."""
    if isinstance(old, dict):
        return {key: merge(old[key], new[key], mask) for key in old}
    merged = np.array(old, copy=True)
    merged[mask] = np.asarray(new)[mask]
    return merged


def play_episodes(env: gym.Env, make_policy: Callable[[], Policy], episodes: int, seed: int,
                  record: bool = False, max_steps: int | None | str = "auto") -> EpisodeResult:
    """Run `episodes` whole episodes one by one (watching, recording); make_policy() gives a fresh policy per
    episode (recurrent ones start with a fresh memory).

    The first reset is seeded, later ones continue the env's RNG, so the same seed plays the same episodes.
    An env with no time limit of its own is cut at MAX_STEPS_WITHOUT_LIMIT steps (ALE games end themselves).
    """
    if max_steps == "auto":
        max_steps = step_cap(env)
    result = EpisodeResult()
    env_id = env.spec.id if env.spec else ""
    for episode in range(episodes):
        observation, info = env.reset(seed=seed if episode == 0 else None)
        policy = make_policy()
        total, length, done = 0.0, 0, False
        if record:
            result.frames.append(env.render())
        while not done:
            observation, reward, terminated, truncated, info = env.step(policy(observation))
            total += float(reward)
            length += 1
            done = terminated or truncated or (max_steps is not None and length >= max_steps)
            if record:
                result.frames.append(env.render())
        result.returns.append(total)
        result.lengths.append(length)
        if "is_success" in info:
            result.successes.append(bool(info["is_success"]))
        elif env_id in SUCCESS_ON_POSITIVE_RETURN:
            result.successes.append(total > 0)
    return result
