"""Tabular Q-learning with Double Q-learning, SARSA and Expected SARSA as options.

Discrete observations are used directly; Box observations go through envs' DiscretizeObservation (--bins);
Tuple/Dict/MultiDiscrete/MultiBinary observations of discrete parts are indexed in their product space
(IndexProductSpace: Blackjack's (32, 11, 2) is one of 704 states).
Only `terminated` stops bootstrapping: a time-limit truncation bootstraps from the observation it reached.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
import torch

from gymforge.agents.config import AgentConfig
from gymforge.agents.episodes import episode_metrics, evaluate_greedy
from gymforge.agents.spaces import require_discrete_actions
from gymforge.engine.errors import ConfigError, require
from gymforge.engine.estimator import Estimator
from gymforge.engine.seeding import stream_seed
from gymforge.envs.discretize import DiscretizeObservation, IndexProductSpace, discrete_parts
from gymforge.envs.errors import EnvError
from gymforge.envs.observations import NEURAL_OBSERVATIONS
from gymforge.networks import ScheduleKind, interpolate


@dataclass
class QLearningConfig(AgentConfig):
    """Tabular Q-learning and its relatives on discrete (or discretized) observations."""

    env: str = "FrozenLake-v1"
    steps: int = 200_000
    eval_every: int = 20_000
    checkpoint_every: int = 20_000
    eval_episodes: int = 100
    update: Literal["q_learning", "double_q", "sarsa", "expected_sarsa"] = "q_learning"
    """TD target: max (Q-learning), two tables (Double Q), the next action taken (SARSA), or its expectation."""
    gamma: float = 0.99
    """Discount factor."""
    learning_rate: float = 0.1
    """Step size at the start of training."""
    final_learning_rate: float = 0.1
    """Step size at the end of training (reached by learning_rate_schedule)."""
    learning_rate_schedule: ScheduleKind = "linear"
    """How the step size moves from learning_rate to final_learning_rate over the whole run."""
    epsilon: float = 1.0
    """Exploration rate at the start."""
    final_epsilon: float = 0.05
    """Exploration rate after exploration_fraction of the run."""
    exploration_fraction: float = 0.5
    """Fraction of the run over which epsilon decays."""
    epsilon_schedule: ScheduleKind = "linear"
    """Decay shape of epsilon."""
    initial_q: float = 0.0
    """Initial value of every Q entry (optimistic values explore)."""
    bins: tuple[int, ...] = ()
    """Discretize a Box observation: one bin count, or one per dimension (1 ignores a dimension)."""
    low: tuple[float, ...] = ()
    """Lower clipping range per dimension for the discretizer (default: the space's bounds)."""
    high: tuple[float, ...] = ()
    """Upper clipping range per dimension for the discretizer."""
    log_every: int = 1_000
    """Environment steps per train_step (one line of TensorBoard scalars)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("learning_rate", "final_learning_rate"):
            value = getattr(self, name)
            require(0 < value <= 1, f"--{name.replace('_', '-')} must be in (0, 1], got {value}")
        for name in ("epsilon", "final_epsilon", "exploration_fraction"):
            value = getattr(self, name)
            require(0 <= value <= 1, f"--{name.replace('_', '-')} must be in [0, 1], got {value}")
        require(0 <= self.gamma <= 1, f"--gamma must be in [0, 1], got {self.gamma}")
        require(self.log_every > 0, f"--log-every must be positive, got {self.log_every}")
        for name in ("learning_rate", "epsilon"):
            if getattr(self, f"{name}_schedule") == "exponential":
                require(getattr(self, f"final_{name}") > 0, f"an exponential schedule needs --final-{name} > 0")


class QLearning(Estimator):
    """A Q-table learner; one train_step is config.log_every environment steps."""

    closes = ("env", "eval_env")
    score_key: ClassVar[str] = "mean_return"
    score_mode: ClassVar[str] = "max"

    def __init__(self, config: QLearningConfig, device: torch.device | None = None) -> None:
        self.config = config
        self.env = self.make_env()
        self.eval_env = self.make_env()
        self.n_actions = int(self.env.action_space.n)
        self.n_states = int(self.env.observation_space.n)
        self.state_offset = int(getattr(self.env.observation_space, "start", 0))
        tables = 2 if config.update == "double_q" else 1
        self.q = np.full((tables, self.n_states, self.n_actions), config.initial_q, dtype=np.float64)
        self.rng = np.random.default_rng(config.seed)
        self.rngs = {"exploration": self.rng}
        self.progress = self.episodes = 0
        self.pending_action: int | None = None  # SARSA's next action, chosen before its update
        self.observation = self.reset_env(seed=config.seed)
        self.episode_return, self.episode_length = 0.0, 0

    # ---- environment --------------------------------------------------------------------------------
    def make_env(self, render_mode: str | None = None) -> gym.Env:
        """The training environment, with the discretizer when the config asks for bins."""
        from gymforge.envs import make_env

        config = self.config
        env = make_env(config.env, render_mode=render_mode, **config.env_kwargs)
        try:
            require_discrete_actions("qlearning", config.env, env.action_space)
            if not isinstance(env.observation_space, gym.spaces.Discrete) and discrete_parts(
                    env.observation_space) is not None or config.observation_keys:
                return IndexProductSpace(env, config.observation_keys)
        except (ConfigError, EnvError):
            env.close()
            raise
        if isinstance(env.observation_space, gym.spaces.Box):
            if not config.bins:
                env.close()
                raise ConfigError(
                    f"qlearning needs discrete observations, but {config.env} observes {env.observation_space}; "
                    "discretize it with --bins (one count per dimension) and --low/--high clipping ranges, "
                    "or use dqn or ppo")
            env = DiscretizeObservation(env, config.bins, config.low, config.high)
        elif not isinstance(env.observation_space, gym.spaces.Discrete):
            space = env.observation_space
            env.close()
            fits = "use dqn or ppo" if isinstance(space, gym.spaces.Dict | gym.spaces.Tuple) else (
                f"no gymforge algorithm takes it ({NEURAL_OBSERVATIONS})")
            raise ConfigError(f"qlearning needs Discrete or Box observations, or Tuple/Dict/MultiDiscrete of discrete "
                              f"parts, but {config.env} has {space}; {fits}")
        return env

    def reset_env(self, seed: int | None = None) -> int:
        observation, _ = self.env.reset(seed=seed)
        return int(observation) - self.state_offset

    # ---- acting -------------------------------------------------------------------------------------
    @property
    def values(self) -> np.ndarray:
        """The Q-table the agent acts on (Double Q acts on the sum of its two tables)."""
        return self.q.sum(axis=0)

    def select_action(self, state: int, epsilon: float) -> int:
        if self.rng.random() < epsilon:
            return int(self.rng.integers(self.n_actions))
        row = self.q[:, state].sum(axis=0)
        best = np.flatnonzero(row == row.max())
        return int(best[0] if len(best) == 1 else best[self.rng.integers(len(best))])

    def act(self, observation: Any) -> int:
        """The greedy action for one observation (as returned by make_env())."""
        return int(np.argmax(self.values[int(observation) - self.state_offset]))

    def policy(self) -> Any:
        """A greedy policy for one episode (tabular policies keep no state)."""
        return self.act

    def batched_policy(self, n_envs: int) -> Any:
        """Greedy actions for a batch of observations (agents/episodes.py's BatchPolicy)."""
        return lambda observations, starts: self.values[np.asarray(observations) - self.state_offset].argmax(axis=1)

    # ---- learning -----------------------------------------------------------------------------------
    def schedules(self) -> tuple[float, float]:
        """(epsilon, learning rate) at the current step."""
        config = self.config
        epsilon = interpolate(config.epsilon, config.final_epsilon,
                              self.schedule_fraction(max(config.exploration_fraction, 1e-12)), config.epsilon_schedule)
        learning_rate = interpolate(config.learning_rate, config.final_learning_rate, self.schedule_fraction(),
                                    config.learning_rate_schedule)
        return epsilon, learning_rate

    def td_target(self, reward: float, next_state: int, terminated: bool, epsilon: float,
                  table: int) -> float:
        """r + gamma * bootstrap(next_state); no bootstrap after a termination (a truncation still bootstraps)."""
        if terminated:
            return reward
        config, q = self.config, self.q
        if config.update == "q_learning":
            bootstrap = q[0, next_state].max()
        elif config.update == "double_q":  # the updated table picks the action, the other one values it
            bootstrap = q[1 - table, next_state, int(np.argmax(q[table, next_state]))]
        elif config.update == "sarsa":
            bootstrap = q[0, next_state, self.pending_action]
        else:  # expected_sarsa under the epsilon-greedy policy
            row = q[0, next_state]
            greedy = np.flatnonzero(row == row.max())
            probabilities = np.full(self.n_actions, epsilon / self.n_actions)
            probabilities[greedy] += (1.0 - epsilon) / len(greedy)
            bootstrap = float(probabilities @ row)
        return reward + config.gamma * float(bootstrap)

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        config = self.config
        episodes, td_errors = [], []
        end = min(self.progress + config.log_every, sys.maxsize if limit is None else limit)
        epsilon, learning_rate = self.schedules()
        while self.progress < end:
            epsilon, learning_rate = self.schedules()
            state = self.observation
            action = self.pending_action if self.pending_action is not None else self.select_action(state, epsilon)
            observation, reward, terminated, truncated, _ = self.env.step(action)
            next_state = int(observation) - self.state_offset
            self.pending_action = None
            if config.update == "sarsa" and not terminated:
                self.pending_action = self.select_action(next_state, epsilon)
            table = int(self.rng.integers(2)) if config.update == "double_q" else 0
            target = self.td_target(float(reward), next_state, terminated, epsilon, table)
            td_error = target - self.q[table, state, action]
            self.q[table, state, action] += learning_rate * td_error
            td_errors.append(abs(td_error))
            self.progress += 1
            self.episode_return += float(reward)
            self.episode_length += 1
            if terminated or truncated:
                episodes.append((self.episode_return, self.episode_length))
                self.episodes += 1
                self.episode_return, self.episode_length = 0.0, 0
                self.pending_action = None
                self.observation = self.reset_env()
            else:
                self.observation = next_state
        metrics = {"train/epsilon": epsilon, "train/learning_rate": learning_rate,
                   "train/abs_td_error": float(np.mean(td_errors)), "rollout/episodes": float(self.episodes)}
        metrics.update(episode_metrics(episodes))
        return metrics

    # ---- evaluation, media --------------------------------------------------------------------------
    def evaluate(self, split: str = "validation") -> dict[str, float]:
        return evaluate_greedy(self, split)

    def log_media(self, logger: Any, step: int) -> None:
        """For grid worlds: state values as colours and the greedy action as arrows."""
        from gymforge.envs import grid_image

        values = self.values
        image = grid_image(self.eval_env, values.max(axis=1), values.argmax(axis=1))
        if image is not None:
            logger.image("eval/greedy_policy", image, step)

    # ---- checkpoint ---------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"q": torch.from_numpy(self.q.copy()), "episodes": self.episodes}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        q = state["q"].numpy()
        if q.shape != self.q.shape:
            raise ConfigError(f"the checkpoint's Q-table has shape {tuple(q.shape)}, but this environment and "
                              f"config need {self.q.shape}")
        self.q = q.copy()
        self.episodes = int(state["episodes"])
        # The episode in flight is not saved: a resumed run starts a fresh, deterministically seeded episode.
        self.pending_action = None
        self.episode_return, self.episode_length = 0.0, 0
        self.observation = self.reset_env(stream_seed(self.config.seed, "resumed-episodes", self.progress))
