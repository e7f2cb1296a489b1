"""Deep Q-Networks (Mnih et al. 2015) with Double DQN, dueling heads, n-step returns and prioritized replay.

Acting is epsilon-greedy with epsilon decaying linearly over a fraction of training, on a Gymnasium vector env.
Only `terminated` stops bootstrapping: at the step where a sub-env's episode ends, the vector env returns its
true final observation, which the replay buffer stores as that transition's next observation; the following
step (NEXT_STEP autoreset: action ignored, reward 0, first observation of the next episode) is not a
transition, so it only starts the sub-env's next episode in the buffer.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
import torch

from gymforge.agents.config import AgentConfig
from gymforge.agents.encoders import observation_batch
from gymforge.agents.episodes import episode_metrics, evaluate_greedy, finished_episodes
from gymforge.agents.policy import GreedyQ, masked_q
from gymforge.agents.q_networks import QNetwork
from gymforge.agents.replay import ReplayBuffer, ReplaySample
from gymforge.agents.rollout import map_observations, observation_layout
from gymforge.agents.spaces import require_discrete_actions
from gymforge.engine import distributed
from gymforge.engine.errors import require
from gymforge.engine.estimator import Estimator
from gymforge.engine.seeding import stream_seed
from gymforge.envs import is_atari
from gymforge.envs.observations import MASK_KEY, PrepareObservation
from gymforge.networks import clip_gradients, huber, interpolate, make_optimizer, mse


def frame_stack_of(env: gym.Env) -> int:
    """How many frames an observation stacks (FrameStackObservation's size), so the buffer stores each once."""
    while isinstance(env, gym.Wrapper):
        if isinstance(env, gym.wrappers.FrameStackObservation):
            return int(env.stack_size)
        env = env.env
    return 1


def legal(mask: np.ndarray) -> np.ndarray:
    """An action mask (E, A) as booleans; a row with no legal action (a terminal state's) counts all as legal."""
    mask = np.asarray(mask).astype(bool)
    return mask | ~mask.any(axis=1, keepdims=True)


@dataclass
class DQNConfig(AgentConfig):
    """DQN and its refinements. Defaults are the 2015 Nature DQN's choices at a small scale; presets tune."""

    env: str = "CartPole-v1"
    steps: int = 100_000
    n_envs: int = 1
    """Environments stepped together (a Gymnasium sync vector env); steps count every sub-env's step."""
    learning_rate: float = 1e-4
    """Adam step size."""
    batch_size: int = 32
    """Transitions per gradient step."""
    buffer_size: int = 100_000
    """Replay capacity in transitions (frames), shared evenly by the sub-environments."""
    learning_starts: int = 1_000
    """Environment steps of uniformly random actions before the first gradient step."""
    gamma: float = 0.99
    """Discount factor."""
    train_freq: int = 4
    """Environment steps between training rounds."""
    gradient_steps: int = 1
    """Gradient steps per training round."""
    target_update_interval: int = 1_000
    """Environment steps between target-network updates."""
    tau: float = 1.0
    """Target update: 1 copies the online network (hard update), less averages (Polyak, target += tau (online - target))."""
    initial_epsilon: float = 1.0
    """Exploration rate at the start."""
    final_epsilon: float = 0.05
    """Exploration rate after exploration_fraction of the run."""
    exploration_fraction: float = 0.1
    """Fraction of the run over which epsilon decays linearly."""
    loss: Literal["huber", "mse"] = "huber"
    """TD loss: Huber (delta 1, the Nature DQN's error clipping) or squared error."""
    max_grad_norm: float = 10.0
    """Clip the gradient's global L2 norm to this; 0 disables clipping."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """MLP layers for vector observations (images use the small CNN, or the Nature CNN for 84x84 stacks)."""
    double_dqn: bool = False
    """Double DQN: the online network picks the next action, the target network values it (less overestimation)."""
    dueling: bool = False
    """Dueling head: Q = V(s) + A(s, a) - mean A."""
    n_step: int = 1
    """Bootstrap after n rewards (cut short at an episode's end)."""
    prioritized: bool = False
    """Prioritized replay: sample transitions in proportion to |TD error|^alpha, with importance weights."""
    priority_alpha: float = 0.6
    """How much prioritization is used (0 is uniform)."""
    priority_beta: float = 0.4
    """Importance-weight exponent at the start; it rises linearly to 1 by the end of the run."""
    priority_epsilon: float = 1e-6
    """Added to |TD error| so no transition's priority is zero."""
    save_buffer: bool = False
    """Put the replay buffer in checkpoints, so a resumed run continues as if never stopped (large files)."""
    log_every: int = 1_000
    """Environment steps per train_step (one line of TensorBoard scalars)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("n_envs", "batch_size", "buffer_size", "train_freq", "gradient_steps",
                     "target_update_interval", "n_step", "log_every"):
            require(getattr(self, name) > 0, f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        require(self.learning_rate > 0, f"--learning-rate must be positive, got {self.learning_rate}")
        require(self.learning_starts >= 0, f"--learning-starts must be >= 0, got {self.learning_starts}")
        require(0 <= self.gamma <= 1, f"--gamma must be in [0, 1], got {self.gamma}")
        require(0 < self.tau <= 1, f"--tau must be in (0, 1] (1 is a hard copy), got {self.tau}")
        for name in ("initial_epsilon", "final_epsilon", "exploration_fraction", "priority_alpha", "priority_beta"):
            value = getattr(self, name)
            require(0 <= value <= 1, f"--{name.replace('_', '-')} must be in [0, 1], got {value}")
        require(self.max_grad_norm >= 0, f"--max-grad-norm must be >= 0 (0 disables), got {self.max_grad_norm}")
        require(self.priority_epsilon > 0, f"--priority-epsilon must be positive, got {self.priority_epsilon}")
        per_env = max(16, self.n_step + 8)  # room for a frame stack and an n-step window in each env's ring
        require(self.buffer_size >= self.n_envs * per_env, f"--buffer-size {self.buffer_size} is too small for "
                f"{self.n_envs} envs and --n-step {self.n_step}; give each env at least {per_env} transitions")


class DQN(Estimator):
    """A DQN learner; one train_step is config.log_every environment steps (fewer at an eval or checkpoint)."""

    closes = ("eval_env", "envs")
    score_key: ClassVar[str] = "mean_return"
    score_mode: ClassVar[str] = "max"

    def __init__(self, config: DQNConfig, device: torch.device | None = None) -> None:
        self.config = config
        self.device = device or torch.device("cpu")
        self.atari = is_atari(config.env)  # ale-py games get the Atari wrapper stack
        self.eval_env = self.make_env()  # refuses continuous actions before anything else is built
        self.n_actions = require_discrete_actions("dqn", config.env, self.eval_env.action_space)
        self.action_start = int(self.eval_env.action_space.start)  # Discrete(n, start): the network counts from 0
        self.envs = self.make_vec_env()
        space = self.envs.single_observation_space
        self.online = QNetwork(space, self.n_actions, config.hidden_sizes, config.dueling).to(self.device)
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        self.train_online = distributed.wrap(self.online)  # torchrun: DDP averages gradients; else the network
        # One parameter group, fused: small Q-networks spend more time in optimizer overhead than in math.
        self.optimizer = make_optimizer("adam", [{"params": list(self.online.parameters())}], config.learning_rate,
                                        fused=True)
        self.loss_function = huber if config.loss == "huber" else mse
        self.buffer = ReplayBuffer(config.buffer_size, *observation_layout(space), n_envs=config.n_envs,
                                   frame_stack=frame_stack_of(self.eval_env), n_step=config.n_step,
                                   gamma=config.gamma, alpha=config.priority_alpha if config.prioritized else None,
                                   seed=config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.networks, self.optimizers = {"online": self.online, "target": self.target}, {"online": self.optimizer}
        self.greedy = GreedyQ(self.online)  # the policy seam: acting and the ONNX export run this module
        self.rngs = {"exploration": self.rng, "replay": self.buffer.rng}  # torchrun: reseeded per rank on resume
        self.progress = self.episodes = self.updates = 0
        self.learning_begins = config.learning_starts  # moves on when a resume comes without its buffer
        self.start_episodes(seed=config.seed)

    # ---- environments -------------------------------------------------------------------------------
    def make_env(self, render_mode: str | None = None) -> gym.Env:
        """One environment as evaluated and watched (Atari: whole games, unclipped scores)."""
        from gymforge.envs import make_atari_env, make_env

        config = self.config
        env = (make_atari_env(config.env, training=False, render_mode=render_mode, **config.env_kwargs) if self.atari
               else make_env(config.env, render_mode=render_mode, **config.env_kwargs))
        try:
            require_discrete_actions("dqn", config.env, env.action_space)
            return PrepareObservation(env, keys=config.observation_keys)
        except Exception:
            env.close()
            raise

    def make_vec_env(self) -> gym.vector.VectorEnv:
        from gymforge.envs import atari_wrappers, make_vec_env

        config = self.config
        prepare = partial(PrepareObservation, keys=config.observation_keys, verbose=False)
        if self.atari:
            return make_vec_env(config.env, config.n_envs, frameskip=1, **config.env_kwargs,
                                wrappers=[lambda env: atari_wrappers(env, training=True), prepare])
        return make_vec_env(config.env, config.n_envs, wrappers=[prepare], **config.env_kwargs)

    def start_episodes(self, seed: int) -> None:
        """Reset every sub-env (seeded) and open a new episode for each in the buffer."""
        self.observations, _ = self.envs.reset(seed=seed)
        self.autoreset = np.zeros(self.config.n_envs, dtype=bool)
        self.buffer.start(np.arange(self.config.n_envs), self.observations)
        self.episode_stats: list[tuple[float, int]] = []

    # ---- acting -------------------------------------------------------------------------------------
    @property
    def epsilon(self) -> float:
        config = self.config
        return interpolate(config.initial_epsilon, config.final_epsilon,
                           self.schedule_fraction(config.exploration_fraction))

    @torch.no_grad()
    def greedy_actions(self, observations: Any) -> np.ndarray:
        """(E, *obs_shape) -> (E,) argmax_a Q(s, a) over the legal actions (network indices, from 0)."""
        return self.greedy(observation_batch(observations, self.device))[0].cpu().numpy()

    def random_actions(self, observations: Any) -> np.ndarray:
        """A uniformly random legal action per env (network indices)."""
        n_envs = self.config.n_envs
        if not (isinstance(observations, dict) and MASK_KEY in observations):
            return self.rng.integers(self.n_actions, size=n_envs)
        weights = legal(observations[MASK_KEY]).astype(np.float64)  # (E, A)
        cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
        picks = (self.rng.random((n_envs, 1)) < cumulative).argmax(axis=1)
        return picks

    def select_actions(self, observations: Any) -> np.ndarray:
        """Epsilon-greedy; uniformly random until learning_starts. Skips the network when every env explores."""
        random_actions = self.random_actions(observations)
        if self.progress < self.config.learning_starts:
            return random_actions
        explore = self.rng.random(self.config.n_envs) < self.epsilon
        if explore.all():
            return random_actions
        return np.where(explore, random_actions, self.greedy_actions(observations))

    def act(self, observation: Any) -> int:
        """The greedy action for one observation (as returned by make_env())."""
        batch = map_observations(observation, lambda value: np.asarray(value)[None])
        return int(self.greedy_actions(batch)[0]) + self.action_start

    def policy(self) -> Any:
        """A greedy policy for one episode (DQN keeps no state between steps)."""
        return self.act

    def batched_policy(self, n_envs: int) -> Any:
        """Greedy actions for a batch of observations (agents/episodes.py's BatchPolicy)."""
        return lambda observations, starts: self.greedy_actions(observations) + self.action_start

    # ---- learning -----------------------------------------------------------------------------------
    def td_targets(self, rewards: torch.Tensor, next_observations: torch.Tensor, dones: torch.Tensor,
                   discounts: torch.Tensor, next_q: torch.Tensor | None = None) -> torch.Tensor:
        """y = R + gamma^m (1 - terminated) Q_target(s', a*), a* = argmax of Q_target, or of Q_online (Double DQN).

        `next_q`: Q_target(s') when already computed (the target network does not change within a round).
        """
        with torch.no_grad():
            next_q = self.target(next_observations) if next_q is None else next_q  # (B, A)
            if self.config.double_dqn:  # the next state's illegal actions can be neither picked nor valued
                next_actions = masked_q(self.online(next_observations), next_observations).argmax(dim=1, keepdim=True)
            else:
                next_actions = masked_q(next_q, next_observations).argmax(dim=1, keepdim=True)  # (B, 1)
            next_values = next_q.gather(1, next_actions).squeeze(1)  # (B,)
            return rewards + discounts * (1.0 - dones) * next_values

    def to_tensors(self, batch: ReplaySample) -> list[Any]:
        return [observation_batch(array, self.device) for array in batch[:-1]]  # indices stay numpy

    def gradient_step(self, tensors: list[torch.Tensor], indices: np.ndarray,
                      next_q: torch.Tensor | None = None) -> torch.Tensor:
        """One Adam step on the (importance-weighted) TD loss; returns [loss, mean Q, gradient norm]."""
        config = self.config
        observations, actions, rewards, next_observations, dones, discounts, weights = tensors
        q = self.train_online(observations).gather(1, actions[:, None]).squeeze(1)  # (B,)
        targets = self.td_targets(rewards, next_observations, dones, discounts, next_q)  # (B,)
        if config.prioritized:
            loss = (weights * self.loss_function(q, targets, reduction="none")).mean()
        else:
            loss = self.loss_function(q, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = clip_gradients(self.online, max_norm=config.max_grad_norm or None)
        self.optimizer.step()
        self.updates += 1
        if config.prioritized:
            errors = (q.detach() - targets).abs().cpu().numpy()
            self.buffer.update_priorities(indices, errors + config.priority_epsilon)
        return torch.stack([loss.detach(), q.detach().mean(), torch.as_tensor(grad_norm, dtype=loss.dtype)])

    def train_round(self) -> tuple[float, float, float]:
        """config.gradient_steps updates. Uniform batches for the whole round are drawn at once, and the target
        network (updated only between rounds) values all their next observations in one forward pass."""
        config = self.config
        stats = []
        if config.prioritized:
            beta = interpolate(config.priority_beta, 1.0, self.schedule_fraction())
            for _ in range(config.gradient_steps):
                batch = self.buffer.sample(config.batch_size, beta)
                stats.append(self.gradient_step(self.to_tensors(batch), batch.indices))
        else:
            batch = self.buffer.sample(config.batch_size * config.gradient_steps)
            tensors = self.to_tensors(batch)
            with torch.no_grad():
                next_q = self.target(tensors[3])  # (G * B, A)
            for start in range(0, len(batch.indices), config.batch_size):
                part = slice(start, start + config.batch_size)
                stats.append(self.gradient_step([map_observations(t, lambda x, part=part: x[part]) for t in tensors],
                                                batch.indices[part], next_q[part]))
        return tuple(torch.stack(stats).mean(dim=0).tolist())  # one conversion per round, not per step

    @torch.no_grad()
    def update_target(self) -> None:
        if self.config.tau >= 1.0:
            self.target.load_state_dict(self.online.state_dict())
            return
        for target, online in zip(self.target.parameters(), self.online.parameters()):
            target.lerp_(online, self.config.tau)
        for target, online in zip(self.target.buffers(), self.online.buffers()):
            target.copy_(online)

    def step_envs(self) -> None:
        """One vector step into the buffer; the autoreset step after an episode's end only starts the next one."""
        actions = self.select_actions(self.observations)
        observations, rewards, terminated, truncated, infos = self.envs.step(actions + self.action_start)
        self.buffer.add(actions, rewards, terminated, observations, mask=~self.autoreset)
        if self.autoreset.any():
            self.buffer.start(np.flatnonzero(self.autoreset),
                              map_observations(observations, lambda array: array[self.autoreset]))
        self.autoreset = terminated | truncated
        self.observations = observations
        self.progress += self.config.n_envs * distributed.world_size()  # torchrun: global env steps
        self.episode_stats += finished_episodes(infos)

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        config = self.config
        end = min(self.progress + config.log_every, sys.maxsize if limit is None else limit)
        stats = []
        while self.progress < end:
            before = self.progress
            self.step_envs()
            if self.progress < self.learning_begins:
                continue
            if self.progress // config.target_update_interval > before // config.target_update_interval:
                self.update_target()
            rounds = self.progress // config.train_freq - before // config.train_freq
            for _ in range(rounds):
                stats.append(self.train_round())
        metrics = {"train/epsilon": self.epsilon, "train/updates": float(self.updates),
                   "rollout/episodes": float(self.episodes + len(self.episode_stats))}
        if stats:
            loss, q_mean, grad_norm = np.mean(stats, axis=0)
            metrics.update({"train/loss": loss, "train/q_mean": q_mean, "train/grad_norm": grad_norm})
        metrics.update(episode_metrics(self.episode_stats))
        self.episodes += len(self.episode_stats)
        self.episode_stats = []
        return metrics

    # ---- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, split: str = "validation") -> dict[str, float]:
        return evaluate_greedy(self, split)

    def log_media(self, logger: Any, step: int) -> None:
        """Nothing: rendering an episode at every evaluation would cost more than the evaluation."""

    def export_module(self) -> Any:
        """The greedy policy as a torch module, for `gymforge export` (agents/policy_export.py)."""
        from gymforge.agents.policy_export import dqn_exportable

        return dqn_exportable(self)

    # ---- checkpoint ---------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"episodes": self.episodes, "updates": self.updates,
                "buffer": self.buffer.state_dict() if self.config.save_buffer else None}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.episodes, self.updates = int(state["episodes"]), int(state["updates"])
        if state.get("buffer") is not None:
            self.buffer.load_state_dict(state["buffer"])
        else:  # no buffer saved: refill learning_starts transitions before learning again
            self.learning_begins = self.progress + self.config.learning_starts
        # The episodes in flight are not saved: fresh, deterministically seeded ones start (the buffer's
        # last frames of the old ones start no transition).
        self.start_episodes(seed=stream_seed(self.config.seed, "resumed-episodes", self.progress))
