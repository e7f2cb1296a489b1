"""Proximal Policy Optimization (Schulman et al. 2017) with the implementation details that make it work.

Vector envs, GAE, the clipped surrogate, optional value clipping, entropy bonus, per-minibatch advantage
normalization, orthogonal init, Adam(eps=1e-5), learning-rate and clip-range annealing, global grad-norm
clipping, the k3 approx-KL with optional early stop, explained variance. Truncated episodes bootstrap
from their true final observation, terminated ones do not (see agents/rollout.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
import torch

from gymforge.agents.actor_critic import ActorCritic, Memory, memory_window
from gymforge.agents.config import AgentConfig
from gymforge.agents.encoders import observation_batch
from gymforge.agents.policy import GreedyActor
from gymforge.agents.episodes import episode_metrics, evaluate_greedy, finished_episodes
from gymforge.agents.rollout import (
    Minibatch,
    RolloutBuffer,
    map_arrays,
    map_observations,
    observation_layout,
    write_observations,
)
from gymforge.agents.spaces import network_action_shape, require_ppo_actions, to_env_actions
from gymforge.engine import distributed
from gymforge.engine.errors import ConfigError, require
from gymforge.engine.estimator import Estimator
from gymforge.engine.seeding import stream_seed
from gymforge.envs import is_atari
from gymforge.envs.observations import PrepareObservation
from gymforge.networks import clip_gradients, interpolate, make_optimizer


@dataclass
class PPOConfig(AgentConfig):
    """PPO for Discrete, Box, MultiDiscrete and MultiBinary actions; feed-forward, CNN, recurrent or transformer
    memory; any observation the shared pipeline prepares (envs/observations.py), action masks honoured."""

    env: str = "CartPole-v1"
    steps: int = 100_000
    n_envs: int = 8
    """Parallel environments in the vector env."""
    vectorization: Literal["sync", "async"] = "sync"
    """Step the envs in this process (sync, fastest for cheap envs) or one process each (async)."""
    n_steps: int = 128
    """Steps per env per rollout; a rollout is n_envs * n_steps transitions."""
    batch_size: int = 256
    """Minibatch size in transitions (recurrent: a multiple of n_steps, i.e. whole env sequences)."""
    n_epochs: int = 4
    """Passes over each rollout."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda: 0 is one-step TD, 1 is Monte Carlo."""
    learning_rate: float = 3e-4
    """Adam step size at the start."""
    learning_rate_schedule: Literal["constant", "linear"] = "linear"
    """linear anneals the step size to 0 over the run."""
    clip_range: float = 0.2
    """Policy ratio clip epsilon at the start."""
    clip_range_schedule: Literal["constant", "linear"] = "constant"
    """linear anneals the clip range to 0 over the run."""
    clip_range_vf: float = 0.0
    """Clip value updates to this distance from the old values; 0 turns value clipping off."""
    ent_coef: float = 0.0
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value loss weight."""
    max_grad_norm: float = 0.5
    """Clip the gradient's global L2 norm to this; 0 disables clipping."""
    target_kl: float = 0.0
    """Stop the update's epochs once the approx KL of a minibatch exceeds this; 0 never stops early."""
    normalize_advantage: bool = True
    """Normalize advantages per minibatch."""
    normalize_observation: bool = False
    """Running mean/std observation normalization (statistics saved and used by evaluate/watch)."""
    normalize_reward: bool = False
    """Scale rewards by the running std of the discounted return."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """MLP widths of the vector encoder (images get a CNN)."""
    activation: str = "tanh"
    """Activation of the MLP encoder."""
    shared_network: bool = False
    """Actor and critic share one trunk (else each has its own, and the value loss cannot touch the actor)."""
    memory: Memory = "none"
    """Policy memory: none, an lstm or gru core, or a transformer over the last memory_length observations."""
    memory_size: int = 64
    """Hidden size of the recurrent core, or embedding width of the transformer."""
    memory_length: int = 8
    """Observations the transformer memory sees (the current one and the K-1 before it)."""
    log_std_init: float = 0.0
    """Initial log standard deviation of Gaussian policies."""
    render_frames: int = 0
    """Learn from the env's render() frames resized to N x N (CartPole from pixels); 0 keeps its observations."""
    frame_skip: int = 1
    """Repeat each action this many env steps, rewards summed (non-Atari envs; Atari skips 4 in its own stack)."""
    grayscale: bool = False
    """Grey RGB image observations (non-Atari envs): a third of the pixels for the CNN."""
    frame_stack: int = 1
    """Stack the last K observations (non-Atari envs), so a feed-forward policy sees motion."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("n_envs", "n_steps", "batch_size", "n_epochs", "memory_size", "memory_length", "frame_skip",
                     "frame_stack"):
            require(getattr(self, name) > 0, f"--{name.replace('_', '-')} must be positive")
        require(self.render_frames == 0 or self.render_frames >= 8,
                f"--render-frames takes a frame size of at least 8 pixels (or 0), got {self.render_frames}")
        require(0 <= self.gamma <= 1 and 0 <= self.gae_lambda <= 1, "--gamma and --gae-lambda must be in [0, 1]")
        require(self.learning_rate > 0 and self.clip_range > 0, "--learning-rate and --clip-range must be positive")
        require(self.max_grad_norm >= 0, f"--max-grad-norm must be >= 0 (0 disables), got {self.max_grad_norm}")
        rollout = self.n_envs * self.n_steps
        if self.memory in ("lstm", "gru"):
            require(self.batch_size % self.n_steps == 0,
                    f"a recurrent minibatch must hold whole env sequences, but --batch-size {self.batch_size} is "
                    f"not a multiple of --n-steps {self.n_steps}; use --batch-size k*{self.n_steps} with k "
                    f"dividing --n-envs {self.n_envs}")
        require(self.batch_size <= rollout,
                f"the rollout (--n-envs {self.n_envs} x --n-steps {self.n_steps} = {rollout}) is smaller than a "
                f"minibatch (--batch-size {self.batch_size}); lower --batch-size or raise --n-steps/--n-envs")
        require(rollout % self.batch_size == 0,
                f"the rollout of {rollout} transitions does not split into minibatches of {self.batch_size}; "
                f"choose a --batch-size that divides --n-envs x --n-steps = {rollout}")
        require(not (self.memory == "transformer" and self.normalize_observation),
                "--memory transformer reads a padding marker from the observations; drop --normalize-observation")

    @property
    def n_minibatches(self) -> int:
        return self.n_envs * self.n_steps // self.batch_size


class PPO(Estimator):
    """One train_step is one rollout of n_envs * n_steps transitions and n_epochs of minibatch updates."""

    closes = ("eval_env", "envs")
    score_key: ClassVar[str] = "mean_return"
    score_mode: ClassVar[str] = "max"

    def __init__(self, config: PPOConfig, device: torch.device | None = None,
                 envs: gym.vector.VectorEnv | None = None) -> None:
        self.config = config
        self.device = device or torch.device("cpu")
        self.atari = is_atari(config.env)  # ale-py games get the Atari wrapper stack
        # A ready vector env (e.g. the world model's dream, agents/dream.py) replaces the one made from
        # config.env; such a PPO has no evaluation env of its own (its owner evaluates it).
        require(envs is None or envs.num_envs == config.n_envs,
                f"the given vector env has {getattr(envs, 'num_envs', 0)} envs, but --n-envs is {config.n_envs}")
        self.eval_env = self.make_env() if envs is None else None  # refuses spaces PPO cannot take first
        probe = self.eval_env if envs is None else None
        require_ppo_actions(config.env, probe.action_space if probe else envs.single_action_space)
        space = probe.observation_space if probe else envs.single_observation_space
        for needs_arrays, option in ((config.memory != "none", f"--memory {config.memory}"),
                                     (config.normalize_observation, "--normalize-observation")):
            if isinstance(space, gym.spaces.Dict) and needs_arrays:
                if probe:
                    probe.close()
                raise ConfigError(f"{option} needs array observations, but {config.env}'s are a Dict "
                                  f"({', '.join(space.spaces)}); drop it")
        self.envs = self.make_vec_env() if envs is None else envs
        self.action_space = self.envs.single_action_space
        self.model = ActorCritic(space, self.action_space, config.hidden_sizes, config.activation,
                                 config.shared_network, config.memory, config.memory_size,
                                 config.log_std_init).to(self.device)
        self.train_model = distributed.wrap(self.model)  # torchrun: DDP averages gradients; else the model
        self.parameters = list(self.model.parameters())
        # One parameter group updated by foreach kernels: PPO applies no weight decay, so nothing is split.
        self.optimizer = make_optimizer("adam", [{"params": self.parameters}], config.learning_rate, eps=1e-5,
                                        foreach=True)
        action_dtype = np.float32 if isinstance(self.action_space, gym.spaces.Box | gym.spaces.MultiBinary) else np.int64
        self.buffer = RolloutBuffer(config.n_steps, config.n_envs, *observation_layout(space),
                                    network_action_shape(self.action_space), action_dtype, self.device)
        self.rng = np.random.default_rng(config.seed)
        self.networks, self.optimizers = {"actor_critic": self.model}, {"actor_critic": self.optimizer}
        self.rngs = {"minibatches": self.rng}
        self.progress = self.updates = 0
        self.start_rollouts()

    # ---- environments -------------------------------------------------------------------------------
    @property
    def make_kwargs(self) -> dict[str, Any]:
        """Options for gym.make: Atari games skip frames in the wrapper stack, not in ALE."""
        if self.atari:
            return {"frameskip": 1, **self.config.env_kwargs}
        if self.config.render_frames:
            return {**self.config.env_kwargs, "render_mode": "rgb_array"}
        return self.config.env_kwargs

    def wrappers(self, training: bool) -> list[Any]:
        from gymforge.envs import RenderedFrames, atari_wrappers, pixel_wrappers

        config = self.config
        prepare = partial(PrepareObservation, keys=config.observation_keys)
        if self.atari:
            require(config.frame_skip == 1 and not config.grayscale and config.frame_stack == 1
                    and not config.render_frames,
                    "Atari games skip, grey and stack frames in their own wrapper stack; drop --frame-skip, "
                    "--grayscale, --frame-stack and --render-frames")
            return [partial(atari_wrappers, training=training), prepare]
        stack = [prepare]
        if config.frame_skip > 1 or config.grayscale or config.frame_stack > 1:
            stack.insert(0, partial(pixel_wrappers, frame_skip=config.frame_skip, grayscale=config.grayscale,
                                    frame_stack=config.frame_stack))
        if config.render_frames:
            stack.insert(0, partial(RenderedFrames, size=config.render_frames))
        if config.memory == "transformer":
            stack.append(partial(memory_window, length=config.memory_length))
        return stack

    def make_vec_env(self) -> gym.vector.VectorEnv:
        from gymforge.envs import NormalizeObservation, NormalizeReward, make_vec_env

        config = self.config
        envs = make_vec_env(config.env, config.n_envs, seed=config.seed, vectorization=config.vectorization,
                            wrappers=self.wrappers(training=True), **self.make_kwargs)
        if config.normalize_observation:
            envs = NormalizeObservation(envs)
        if config.normalize_reward:
            envs = NormalizeReward(envs, gamma=config.gamma)
        return envs

    def make_env(self, render_mode: str | None = None) -> gym.Env:
        """One env as training sees it (Atari: whole games, raw scores); observation normalization, frozen,
        happens in act()."""
        from gymforge.envs import make_env

        kwargs = {"render_mode": render_mode, **self.make_kwargs}  # rendered frames need rgb_array
        env = make_env(self.config.env, **kwargs)
        for wrapper in self.wrappers(training=False):
            env = wrapper(env)
        if render_mode == "human" and kwargs["render_mode"] != "human":
            env = gym.wrappers.HumanRendering(env)
        return env

    def standardizer(self) -> torch.nn.Module | None:
        """Training's observation normalization, frozen (envs.observation_standardizer): the one object acting,
        evaluation and export apply; None without --normalize-observation."""
        from gymforge.envs import observation_standardizer

        return observation_standardizer(self.envs)

    # ---- acting -------------------------------------------------------------------------------------
    def policy(self) -> Any:
        """A greedy policy for one episode; a recurrent one carries its memory state between calls."""
        act, starts = self.batched_policy(1), np.ones(1, dtype=bool)

        def single(observation: Any) -> Any:
            action = act(map_observations(observation, lambda value: np.asarray(value)[None]), starts)[0]
            starts[0] = False
            return action

        return single

    def batched_policy(self, n_envs: int) -> Any:
        """Greedy actions for n_envs observations at a time (agents/episodes.py's BatchPolicy); a recurrent
        policy keeps one memory per env and clears it where `starts` marks an episode's first observation."""
        policy = self.greedy_policy()
        memory = {"state": policy.initial_state(n_envs, self.device)}

        @torch.no_grad()
        def act(observations: Any, starts: np.ndarray) -> np.ndarray:
            obs = observation_batch(observations, self.device)  # (N, ...), or a dict of them (masks included)
            start = torch.as_tensor(np.asarray(starts, dtype=np.float32), device=self.device)
            action, _, memory["state"] = policy(obs, memory["state"], start)
            return self.to_env_action(action.cpu().numpy())

        return act

    def greedy_policy(self) -> GreedyActor:
        """The policy seam (agents/policy.py): the one module acting, evaluation and the ONNX export run."""
        return GreedyActor(self.model, self.action_space, self.standardizer()).to(self.device)

    def act(self, observation: Any) -> Any:
        """The greedy action for one observation (feed-forward policies; recurrent ones use policy())."""
        return self.policy()(observation)

    def to_env_action(self, actions: np.ndarray) -> np.ndarray:
        """Network actions (B, ...) -> the env's: Gaussian actions are clipped to finite bounds only here, on their
        way to the env; Discrete(start=k) actions shifted by k; shaped spaces reshaped."""
        return to_env_actions(self.action_space, actions)

    # ---- rollouts -----------------------------------------------------------------------------------
    def start_rollouts(self, seed: int | None = None) -> None:
        self.observation, _ = self.envs.reset(seed=self.config.seed if seed is None else seed)
        self.after_episode_end = np.zeros(self.config.n_envs, dtype=bool)  # next step is an ignored reset step
        self.episode_starts = np.ones(self.config.n_envs, dtype=np.float32)
        self.state = self.model.initial_state(self.config.n_envs, self.device)

    @torch.no_grad()
    def collect_rollout(self) -> list[tuple[float, int]]:
        """Fill the buffer with n_steps steps of every env; returns the episodes that ended.

        Feed-forward policies only sample actions step by step; the log-probs and values of the whole
        rollout (same weights) come from one batched forward afterwards, which halves the per-step cost.
        """
        buffer, episodes, recurrent = self.buffer, [], self.model.recurrent
        buffer.initial_state = self.state
        for t in range(self.config.n_steps):
            write_observations(buffer.observations, t, self.observation)
            buffer.valid[t] = ~self.after_episode_end
            buffer.episode_starts[t] = self.episode_starts
            obs = map_observations(buffer.observations, lambda a, t=t: torch.from_numpy(a[t]).to(self.device))
            if recurrent:
                starts = buffer._tensor(buffer.episode_starts[t])
                distribution, value, self.state = self.model(obs, self.state, starts)
                action = distribution.sample()
                buffer.log_probs[t] = distribution.log_prob(action).cpu().numpy()
                buffer.values[t] = value.cpu().numpy()
            else:
                action = self.model.policy_distribution(obs).sample()
            buffer.actions[t] = action = action.cpu().numpy()
            self.observation, reward, terminated, truncated, infos = self.envs.step(self.to_env_action(action))
            buffer.rewards[t], buffer.terminated[t], buffer.truncated[t] = reward, terminated, truncated
            self.episode_starts = self.after_episode_end.astype(np.float32)  # a reset step returns a first obs
            self.after_episode_end = terminated | truncated
            episodes += finished_episodes(infos)
        self.progress += self.config.n_steps * self.config.n_envs * distributed.world_size()  # global steps
        obs = observation_batch(self.observation, self.device)
        if recurrent:
            last_values = self.model.value(obs, self.state, buffer._tensor(self.episode_starts))
        else:
            observations = {key: torch.cat([buffer._tensor(array).flatten(0, 1), obs[key]])  # (T * N + N, ...)
                            for key, array in buffer.observations.items()} if isinstance(obs, dict) else \
                torch.cat([buffer._tensor(buffer.observations).flatten(0, 1), obs])
            distribution, values, _ = self.model(observations)
            n_samples = buffer.values.size
            log_probs = distribution.log_prob(torch.cat([buffer._tensor(buffer.actions).flatten(0, 1),
                                                         buffer._tensor(buffer.actions[-1])]))
            buffer.log_probs[:] = log_probs[:n_samples].view(buffer.log_probs.shape).cpu().numpy()
            buffer.values[:] = values[:n_samples].view(buffer.values.shape).cpu().numpy()
            last_values = values[n_samples:]
        buffer.compute_gae(last_values.cpu().numpy(), self.config.gamma, self.config.gae_lambda)
        return episodes

    # ---- learning -----------------------------------------------------------------------------------
    def schedules(self) -> tuple[float, float]:
        """(learning rate, clip range) for the coming update, annealed over the budget."""
        config, fraction = self.config, self.schedule_fraction()
        return (interpolate(config.learning_rate, 0.0, fraction, config.learning_rate_schedule),
                interpolate(config.clip_range, 0.0, fraction, config.clip_range_schedule))

    def losses(self, batch: Minibatch, clip_range: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The PPO loss of one minibatch and its diagnostics."""
        config = self.config
        distribution, values, _ = self.train_model(batch.observations, batch.initial_state, batch.episode_starts)
        log_ratio = distribution.log_prob(batch.actions) - batch.old_log_probs
        ratio = log_ratio.exp()
        mask = batch.mask if batch.mask is not None else torch.ones_like(ratio)
        count = mask.sum().clamp(min=1.0)

        def mean(x: torch.Tensor) -> torch.Tensor:
            return (x * mask).sum() / count

        advantages = batch.advantages
        if config.normalize_advantage:  # torchrun: over the global minibatch (distributed.mean_over: mean(x) alone)
            centred = advantages - distributed.mean_over(advantages * mask, count)
            advantages = centred / (distributed.mean_over(centred.square() * mask, count).sqrt() + 1e-8)
        policy_loss = mean(-torch.min(advantages * ratio, advantages * ratio.clamp(1 - clip_range, 1 + clip_range)))
        value_loss = (values - batch.returns).square()
        if config.clip_range_vf > 0:
            clipped = batch.old_values + (values - batch.old_values).clamp(-config.clip_range_vf, config.clip_range_vf)
            value_loss = torch.max(value_loss, (clipped - batch.returns).square())
        value_loss = 0.5 * mean(value_loss)
        entropy = mean(distribution.entropy())
        loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy
        loss = loss * distributed.loss_scale(count)  # torchrun: ranks' valid steps differ; DDP then averages
        with torch.no_grad():
            diagnostics = {"policy_loss": policy_loss.detach(), "value_loss": value_loss.detach(),
                           "entropy": entropy.detach(),
                           "approx_kl": mean((ratio - 1) - log_ratio),  # k3: unbiased, never negative
                           "clip_fraction": mean(((ratio - 1).abs() > clip_range).float())}
        return loss, diagnostics

    def update(self) -> dict[str, float]:
        config = self.config
        learning_rate, clip_range = self.schedules()
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        minibatches = self.buffer.sequences if self.model.recurrent else self.buffer.samples
        sums: dict[str, float] = {}
        count, stopped_early, grad_norm = 0, False, 0.0
        for _ in range(config.n_epochs):
            for batch in minibatches(config.n_minibatches, self.rng):
                loss, diagnostics = self.losses(batch, clip_range)
                if config.target_kl > 0 and distributed.mean(diagnostics["approx_kl"]) > config.target_kl:
                    stopped_early = True
                    break
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = float(clip_gradients(self.parameters, config.max_grad_norm or None))  # 0: no clip
                self.optimizer.step()
                for key, value in diagnostics.items():
                    sums[key] = sums.get(key, 0.0) + float(value)
                count += 1
            if stopped_early:
                break
        self.updates += 1
        valid = self.buffer.valid
        values, returns = self.buffer.values[valid], self.buffer.returns[valid]
        variance = returns.var()
        metrics = {f"train/{key}": value / max(count, 1) for key, value in sums.items()}
        metrics.update({"train/explained_variance": float(1 - (returns - values).var() / variance) if variance > 0
                        else 0.0, "train/learning_rate": learning_rate, "train/clip_range": clip_range,
                        "train/grad_norm": grad_norm, "train/minibatch_updates": float(count),
                        "train/stopped_early": float(stopped_early)})
        return metrics

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        with distributed.merged_normalization(self.envs):  # torchrun: every rank normalizes alike
            episodes = self.collect_rollout()
        return {**self.update(), **episode_metrics(episodes)}

    # ---- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, split: str = "validation") -> dict[str, float]:
        return evaluate_greedy(self, split)

    def log_media(self, logger: Any, step: int) -> None:
        """Nothing per evaluation: `gymforge watch --record` renders episodes on demand."""

    def export_module(self) -> Any:
        """The greedy policy as a torch module, for `gymforge export` (agents/policy_export.py)."""
        from gymforge.agents.policy_export import ppo_exportable

        return ppo_exportable(self)

    # ---- checkpoint ---------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        from gymforge.envs import normalization_state

        return {"updates": self.updates, "normalization": map_arrays(normalization_state(self.envs), torch.from_numpy)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        from gymforge.envs import load_normalization_state

        self.updates = int(state["updates"])
        # Episodes in flight are not saved: a resumed run starts fresh, deterministically seeded episodes,
        # reset with the normalization statistics loaded and frozen so the reset does not move them.
        normalization = map_arrays(state["normalization"], lambda t: t.numpy())
        load_normalization_state(self.envs, normalization, training=False)
        self.start_rollouts(seed=stream_seed(self.config.seed, "resumed-episodes", self.progress))
        load_normalization_state(self.envs, normalization, training=True)
