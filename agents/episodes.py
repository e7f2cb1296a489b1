"""Playing whole episodes with a policy: evaluation figures, watching, and frames for recorded videos."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

# Environments whose reward is a success signal without an `is_success` info key: success = positive return.
SUCCESS_ON_POSITIVE_RETURN = {"FrozenLake-v1", "FrozenLake8x8-v1"}

Policy = Callable[[Any], Any]


@dataclass
class EpisodeResult:
    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)
    frames: list[np.ndarray] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """mean_return, std_return, mean_length, episodes, and success_rate where success is defined."""
        figures = {"mean_return": float(np.mean(self.returns)), "std_return": float(np.std(self.returns)),
                   "mean_length": float(np.mean(self.lengths)), "episodes": float(len(self.returns))}
        if self.successes:
            figures["success_rate"] = float(np.mean(self.successes))
        return figures


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


def evaluate_greedy(agent: Any) -> dict[str, float]:
    """An agent's greedy policy over config.eval_episodes on its own evaluation env, seeded apart from training
    and the same at every evaluation, so successive evaluations compare like with like."""
    config = agent.config
    return play_episodes(agent.eval_env, agent.policy, config.eval_episodes, seed=config.seed + 10_000).figures()


def play_episodes(env: gym.Env, make_policy: Callable[[], Policy], episodes: int, seed: int,
                  record: bool = False, max_steps: int = 10_000) -> EpisodeResult:
    """Run `episodes` whole episodes; make_policy() gives a fresh policy per episode (recurrent ones keep state).

    The first reset is seeded, later ones continue the env's RNG, so the same seed plays the same episodes.
    An episode is cut at max_steps, so a greedy policy that loops in an env without a time limit still ends.
    """
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
            done = terminated or truncated or length >= max_steps
            if record:
                result.frames.append(env.render())
        result.returns.append(total)
        result.lengths.append(length)
        if "is_success" in info:
            result.successes.append(bool(info["is_success"]))
        elif env_id in SUCCESS_ON_POSITIVE_RETURN:
            result.successes.append(total > 0)
    return result
