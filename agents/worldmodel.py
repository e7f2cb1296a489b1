"""World models (Ha & Schmidhuber 2018): V, a VAE on frames; M, an MDN-RNN over (latent, action); C, a controller
trained only inside M's dream.

One train_step is one iteration: collect real steps (random at first, then the controller's sampled
actions), fine-tune V on every frame so far, fine-tune M on the encoded episodes, train C with gymforge's
own PPO in the dream (agents/dream.py), and count the real steps as progress. evaluate() plays C in the
real env and reports the fidelity figures: latent and frame errors at horizons 1, 5 and 15, the reward
error, and the dream-to-real gap.
"""

from __future__ import annotations

import copy
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar, Iterator, Literal

import gymnasium as gym
import numpy as np
import torch
from gymforge.agents.config import AgentConfig
from gymforge.agents.dream import DreamVectorEnv, DynamicsModel, PessimisticEnsemble, warmed_up_starts
from gymforge.agents.ppo import PPO, PPOConfig
from gymforge.agents.world_episodes import Episodes, sequences
from gymforge.agents.world_evaluation import WorldModelEvaluation
from gymforge.envs.observations import image_layout
from gymforge.generative.metrics import bernoulli_log_likelihood, gaussian_kl
from gymforge.generative.vae import VAEConfig, VAEModel
from gymforge.networks import make_optimizer
from gymnasium.wrappers.vector import RecordEpisodeStatistics

from gymforge.engine.config import config_from_dict
from gymforge.engine.errors import ConfigError, require
from gymforge.engine.estimator import Estimator
from gymforge.engine.seeding import stream_seed

MAX_DREAM_STARTS = 16_384  # real steps the dream may start from, drawn afresh each iteration (memory: H floats each)
# Controller (PPO) defaults in the dream; --controller-options KEY=VALUE overrides any PPO option.
CONTROLLER_DEFAULTS: dict[str, Any] = {"n_envs": 32, "n_steps": 32, "batch_size": 256, "n_epochs": 4,
                                       "learning_rate": 3e-4, "learning_rate_schedule": "constant",
                                       "ent_coef": 0.01, "gamma": 0.99, "gae_lambda": 0.95}


@dataclass
class WorldModelConfig(AgentConfig):
    """V (VAE) + M (MDN-RNN) + C (PPO in the dream); --steps counts real environment steps."""

    env: str = "gymforge/Catch-v0"
    steps: int = 5_000
    eval_every: int = 1_000
    checkpoint_every: int = 1_000
    frame_size: int = 64
    """Frames are resized to frame_size x frame_size; 0 keeps pixel observations at their own size."""
    grayscale: bool = False
    """Average colour frames to one channel (enough for CartPole, cheaper for V)."""
    initial_steps: int = 1_000
    """Real steps with random actions before the first model."""
    collect_steps: int = 1_000
    """Real steps per later iteration, with the controller's sampled actions."""
    latent_dim: int = 16
    """Size of V's latent z."""
    vae_channels: tuple[int, ...] = (32, 64)
    """V's conv channels (stride 2 each)."""
    vae_hidden: int = 256
    """Width of V's dense layer."""
    vae_beta: float = 1.0
    """KL weight of V."""
    vae_updates: int = 1_000
    """V's minibatch updates per iteration."""
    vae_warmup: int = 0
    """V's first updates run without posterior noise, which then rises to 1 over as many more: a deterministic
    start that keeps V from collapsing to the mean frame on tiny sparse images (Catch)."""
    model_kind: Literal["lstm", "gru"] = "lstm"
    """M's recurrent core."""
    model_hidden: int = 128
    """M's hidden size (the controller sees this state)."""
    mixtures: int = 5
    """Gaussian components per latent dimension in M's head (1 is a plain Gaussian)."""
    model_updates: int = 1_000
    """M's minibatch updates per iteration."""
    ensemble: int = 1
    """Independently initialised Ms; above 1 the dream takes their pessimistic consensus (the union of their next
    latents, the lowest reward, the highest end probability), so the controller cannot farm one model's errors.
    Costs that many times M's training and dream steps."""
    reward_weight: float = 10.0
    """Weight of M's reward error against its latent NLL (a rare reward is otherwise learned last)."""
    end_weight: float = 1.0
    """Weight of M's termination loss against its latent NLL (a rare end, as CartPole's fall, is otherwise
    learned as the base rate everywhere, and the dream ends at random)."""
    sequence_length: int = 32
    """Steps per training sequence of M."""
    shift_augment: int = 0
    """V and M also learn from copies of each real episode moved sideways, one shift k for the whole episode (so its
    dynamics stay intact), for every |k| <= this many pixels whose leaving columns hold only background (each
    channel's most common value, which fills the gap) and that moves nothing off a wall that held it. DrQ's random shift made consistent over an episode: M then
    sees each thing that happens at one column at all of them. A prior the user brings: for games that play alike
    across columns on a plain background (Catch). 0 is off."""
    batch_size: int = 64
    """Frames per V batch and sequences per M batch."""
    learning_rate: float = 1e-3
    """Adam step size of V and M."""
    dream_steps: int = 50_000
    """Controller steps in the dream per iteration."""
    dream_horizon: int = 0
    """Dream episodes are truncated after this many steps; 0 uses the longest real episode collected so far
    (M cannot be trusted past what it has seen, and a controller would farm its mistakes there)."""
    dream_starts: Literal["first", "every"] = "every"
    """Where dream episodes begin: "first" real frames with an empty memory, or "every" real step with M's state
    warmed up on the real steps before it (as Dreamer and MBPO start imagination from real states: shorter
    open-loop stretches, and the controller practises the late states it meets in the real env)."""
    temperature: float = 1.0
    """The dream's randomness (the paper's tau): 0 is deterministic, above 1 harder than the model believes."""
    fresh_controller: bool = True
    """Train a new controller each iteration (V's latents move under the old one, and a continued PPO whose
    entropy collapsed on an early, wrong model stayed stuck even once M was accurate)."""
    controller_options: tuple[str, ...] = ()
    """PPO options of the controller as KEY=VALUE (e.g. n_envs=64 ent_coef=0.0)."""
    deploy: Literal["latest", "best"] = "latest"
    """Which agent (V, M and C together) evaluate, watch and dream use: the "latest", or the "best" by the real
    return of the collection it played (no extra real steps: the next collection is played anyway, so the
    newest controller is judged one iteration later). A fresh controller on each new M can be worse in the real
    env than the one before; "best" keeps the better one instead of deploying the swing."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("initial_steps", "collect_steps", "latent_dim", "vae_hidden", "model_hidden", "mixtures",
                     "ensemble", "sequence_length", "batch_size"):
            require(getattr(self, name) > 0, f"--{name.replace('_', '-')} must be positive")
        for name in ("vae_updates", "vae_warmup", "model_updates", "dream_steps", "frame_size", "dream_horizon",
                     "shift_augment"):
            require(getattr(self, name) >= 0, f"--{name.replace('_', '-')} must be >= 0")
        require(self.reward_weight >= 0, f"--reward-weight must be >= 0, got {self.reward_weight}")
        require(self.end_weight >= 0, f"--end-weight must be >= 0, got {self.end_weight}")
        require(self.temperature >= 0, f"--temperature must be >= 0, got {self.temperature}")
        require(self.frame_size == 0 or self.frame_size >= 8, f"--frame-size must be 0 or >= 8, got {self.frame_size}")
        self.controller_config()  # refuse bad controller options now, not after the first collection

    def controller_config(self) -> PPOConfig:
        import yaml

        options = dict(CONTROLLER_DEFAULTS)
        for option in self.controller_options:
            require("=" in option, f"--controller-options takes KEY=VALUE pairs, got {option!r}")
            key, value = option.split("=", 1)
            options[key.replace("-", "_")] = yaml.safe_load(value)
        require(not {"env", "steps", "seed", "memory"} & set(options),
                "--controller-options cannot set env, steps, seed or memory (the controller sees M's state)")
        return config_from_dict(PPOConfig, {**options, "env": self.env, "steps": 10**12, "seed": self.seed,
                                            "eval_episodes": self.eval_episodes}, source="--controller-options")


# ---- frames from any env ----------------------------------------------------------------------------
def is_pixel_space(space: gym.Space) -> bool:
    """Image observations by the pipeline's one rule (envs.observations.image_layout), any layout."""
    return image_layout(space) is not None


def frame_source(env_id: str) -> str:
    """"observation" for pixel observations, "render" for envs that render rgb_array frames; else refuse."""
    from gymforge.envs import make_env

    env = make_env(env_id)
    try:
        if is_pixel_space(env.observation_space):
            return "observation"
        if "rgb_array" in env.metadata.get("render_modes", []):
            return "render"
    finally:
        env.close()
    raise ConfigError(f"the world model learns from frames, but {env_id} has no pixel observations and cannot "
                      "render rgb_array frames; choose an env with images or a renderer")


class WorldModel(WorldModelEvaluation, Estimator):
    """The Learner: progress counts real environment steps; the controller never trains on real data."""

    closes = ("env", "eval_env", "controller")
    score_key: ClassVar[str] = "mean_return"
    score_mode: ClassVar[str] = "max"

    def __init__(self, config: WorldModelConfig, device: torch.device | None = None) -> None:
        self.config = config
        self.device = device or torch.device("cpu")
        self.source = frame_source(config.env)
        require(self.source == "observation" or config.frame_size > 0,
                f"{config.env} has no pixel observations, so its render() frames are resized: set --frame-size "
                "(e.g. 64); 0 keeps only pixel observations at their own size")
        self.env = self.make_env()
        self.eval_env = self.make_env()
        self.action_space = self.env.action_space
        self.image_shape = self.env.observation_space.shape
        vae_config = VAEConfig(latent_dim=config.latent_dim, channels_per_layer=config.vae_channels,
                               hidden_dim=config.vae_hidden, beta=config.vae_beta)
        self.vae = VAEModel(self.image_shape, vae_config, num_classes=0).to(self.device)
        self.vae_optimizer = make_optimizer("adam", self.vae, lr=config.learning_rate)
        shape = (config.latent_dim, self.action_space, config.model_hidden, config.model_kind, config.mixtures)
        self.model = (DynamicsModel(*shape) if config.ensemble == 1
                      else PessimisticEnsemble(config.ensemble, *shape)).to(self.device)
        self.model_optimizer = make_optimizer("adam", self.model, lr=config.learning_rate)
        self.dream = DreamVectorEnv(self.model, torch.zeros(1, config.latent_dim, device=self.device),
                                    config.controller_config().n_envs, config.dream_horizon or 1,
                                    config.temperature)
        self.controller = self.make_controller()
        self.episodes = Episodes()
        self.rng = np.random.default_rng(config.seed)
        self.networks = {"vae": self.vae, "model": self.model}
        self.optimizers = {"vae": self.vae_optimizer, "model": self.model_optimizer}
        self.rngs = {"batches": self.rng}
        self.progress = self.iteration = self.vae_steps = 0
        self.last_episodes: list[dict[str, Any]] = []
        self.best: dict[str, torch.nn.Module] | None = None  # deploy=best: copies of V, M and C's network
        self.best_return = -float("inf")  # the real return of the collection the best agent played

    def make_controller(self) -> PPO:
        """C: gymforge's PPO, unchanged, on the dream (a ready VectorEnv) instead of an env it makes itself."""
        return PPO(self.config.controller_config(), self.device, envs=RecordEpisodeStatistics(self.dream))

    # ---- environments and acting --------------------------------------------------------------------
    def make_env(self, render_mode: str | None = None) -> gym.Env:
        """The real env with frame observations (watch and --record use it too)."""
        from gymforge.envs import FrameObservation, RenderedFrames, make_env

        config = self.config
        if self.source == "render":
            env = RenderedFrames(make_env(config.env, render_mode="rgb_array"), config.frame_size)
        else:
            env = make_env(config.env, render_mode=render_mode)
        env = FrameObservation(env, config.frame_size, config.grayscale)
        if self.source == "render" and render_mode == "human":
            env = gym.wrappers.HumanRendering(env)
        return env

    @torch.no_grad()
    def encode(self, frames: np.ndarray | torch.Tensor, vae: VAEModel | None = None) -> torch.Tensor:
        """(N, C, H, W) uint8 frames -> V's (or `vae`'s) posterior means (N, D), in chunks."""
        frames, vae = torch.as_tensor(frames), vae or self.vae
        return torch.cat([vae.encode(frames[i:i + 1024].to(self.device).float() / 255.0, None)[0]
                          for i in range(0, len(frames), 1024)])

    def policy(self, greedy: bool = True, latest: bool = False) -> Any:
        """A policy for one real episode: frame -> z, [z, h] -> action, and M's state advanced with (z, a). It
        acts with the deployed agent, or with the latest (collection) where `latest`."""
        with nullcontext() if latest else self.deployed():
            vae, model, network = self.vae, self.model, self.controller.model
        memory = {"state": model.initial_state(1, self.device)}

        @torch.no_grad()
        def act(observation: np.ndarray) -> Any:
            latent = self.encode(observation[None], vae)  # (1, D)
            distribution = network.policy_distribution(torch.cat([latent, model.hidden(memory["state"])], -1))
            action = distribution.mode if greedy else distribution.sample()
            _, memory["state"] = model(latent, action, memory["state"])
            return self.controller.to_env_action(action.cpu().numpy())[0]

        return act

    @contextmanager
    def deployed(self) -> Iterator[None]:
        """V, M and C's network of the deployed agent in place of the latest ones while inside (deploy=best)."""
        if self.best is None or self.vae is self.best["vae"]:  # nothing deployed yet, or already inside
            yield
            return
        latest = self.vae, self.model, self.controller.model
        self.vae, self.model, self.controller.model = self.best["vae"], self.best["model"], self.best["controller"]
        try:
            yield
        finally:
            self.vae, self.model, self.controller.model = latest

    def judge(self, collected: list[dict[str, Any]]) -> None:
        """deploy=best: the latest agent just played this collection; it becomes the deployed one if its real
        return (over the episodes that ended, as a cut-off one is short) is at least the best so far."""
        ended = [e for e in collected if e["ended"]] or collected
        score = float(np.mean([sum(e["rewards"]) for e in ended]))
        if score >= self.best_return:
            self.best_return = score
            self.best = self.copy_of_latest()

    def copy_of_latest(self) -> dict[str, torch.nn.Module]:
        return {"vae": copy.deepcopy(self.vae), "model": copy.deepcopy(self.model),
                "controller": copy.deepcopy(self.controller.model)}

    def act(self, observation: np.ndarray) -> Any:
        """The greedy action for one frame, M's memory starting empty (a whole episode uses policy())."""
        return self.policy()(observation)

    def play(self, env: gym.Env, episodes: int, seed: int, greedy: bool, max_steps: int | None = None,
             store: Episodes | None = None, latest: bool = False) -> list[dict[str, Any]]:
        """Whole real episodes (or the first max_steps steps); the first reset is seeded, later ones continue."""
        played, steps = [], 0
        for episode in range(episodes):
            observation, _ = env.reset(seed=seed if episode == 0 else None)
            policy = self.policy(greedy, latest) if self.iteration > 0 else None
            frames, actions, rewards, info, done, terminated = [observation], [], [], {}, False, False
            while not done and (max_steps is None or steps < max_steps):
                action = policy(observation) if policy else self.action_space.sample()
                observation, reward, terminated, truncated, info = env.step(action)
                frames.append(observation)
                actions.append(action)
                rewards.append(float(reward))
                done, steps = terminated or truncated, steps + 1
            played.append({"frames": frames, "actions": actions, "rewards": rewards, "info": info,
                           "terminated": bool(terminated), "ended": done})
            if store is not None:
                store.add(frames, actions, rewards, bool(terminated))
            if max_steps is not None and steps >= max_steps:
                break
        return played

    # ---- one iteration ------------------------------------------------------------------------------
    def train_step(self, limit: int | None = None) -> dict[str, float]:
        config = self.config
        budget = config.initial_steps if self.iteration == 0 else config.collect_steps
        self.action_space.seed(stream_seed(config.seed, "collect-actions", self.iteration))
        seed = stream_seed(config.seed, "collect", self.iteration)
        collected = self.play(self.env, 10**9, seed, greedy=False, max_steps=budget, store=self.episodes,
                              latest=True)
        self.progress += sum(len(e["actions"]) for e in collected)
        metrics = {"collect/return": float(np.mean([sum(e["rewards"]) for e in collected])),
                   "collect/episodes": float(len(self.episodes.frames))}
        if config.deploy == "best" and self.iteration > 0:  # the latest agent played it (not random actions)
            self.judge(collected)
            metrics["deploy/best_return"] = self.best_return
        self.iteration += 1
        started = time.perf_counter()
        metrics.update(self.train_vae(config.vae_updates))
        metrics["time/vae_s"], started = time.perf_counter() - started, time.perf_counter()
        flat = self.flatten()  # the episodes encoded once by the new V, for M and the dream's starts
        metrics.update(self.train_model(config.model_updates, flat))
        metrics["time/model_s"], started = time.perf_counter() - started, time.perf_counter()
        metrics.update(self.train_controller(config.dream_steps, flat))
        metrics["time/controller_s"] = time.perf_counter() - started
        return metrics

    def training_episodes(self) -> Episodes:
        """What V and M learn from: the real episodes, with their shifted copies under --shift-augment."""
        shift = self.config.shift_augment
        return self.episodes.with_shifts(shift) if shift else self.episodes

    def train_vae(self, updates: int) -> dict[str, float]:
        frames = torch.from_numpy(self.training_episodes().all_frames())
        sums = {"vae/reconstruction_nats": 0.0, "vae/kl_nats": 0.0}
        for _ in range(updates):
            index = torch.from_numpy(self.rng.integers(len(frames), size=self.config.batch_size))
            images = frames[index].to(self.device).float() / 255.0
            mean, log_var = self.vae.encode(images, None)
            warmup = self.config.vae_warmup
            noise = min(1.0, max(0.0, self.vae_steps / warmup - 1.0)) if warmup else 1.0
            latent = mean + noise * torch.randn_like(mean) * (0.5 * log_var).exp()
            self.vae_steps += 1
            reconstruction = -bernoulli_log_likelihood(self.vae.decode(latent, None), images)  # (B,)
            kl = gaussian_kl(mean, log_var)
            loss = (reconstruction + self.config.vae_beta * kl).mean()
            self.vae_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.vae_optimizer.step()
            sums["vae/reconstruction_nats"] += reconstruction.mean().item()
            sums["vae/kl_nats"] += kl.mean().item()
        return {key: value / max(updates, 1) for key, value in sums.items()}

    def flatten(self) -> dict[str, torch.Tensor]:
        """Every training episode encoded once by V, as flat tensors with offsets (agents/world_episodes.py)."""
        return self.training_episodes().flatten(self.encode, self.device)

    def train_model(self, updates: int, flat: dict[str, torch.Tensor] | None = None) -> dict[str, float]:
        flat = flat or self.flatten()
        sums: dict[str, float] = {}
        for _ in range(updates):
            losses = self.model.losses(*sequences(flat, self.rng, self.config.batch_size, self.config.sequence_length))
            loss = self.model_objective(losses)
            self.model_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.model_optimizer.step()
            for key, value in losses.items():
                sums[f"model/{key}"] = sums.get(f"model/{key}", 0.0) + value.item()
        return {key: value / max(updates, 1) for key, value in sums.items()}

    def model_objective(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        """M's loss: the latent NLL plus the weighted reward and termination losses (rare signals need weight)."""
        return (losses["latent_nll"] + self.config.reward_weight * losses["reward_mse"]
                + self.config.end_weight * losses["end_bce"])

    def dream_horizon(self) -> int:
        return self.config.dream_horizon or max(len(actions) for actions in self.episodes.actions)

    def reward_bounds(self) -> tuple[float, float]:
        rewards = np.concatenate(self.episodes.rewards)
        return float(rewards.min()), float(rewards.max())

    def initial_latents(self) -> torch.Tensor:
        return self.encode(np.stack([frames[0] for frames in self.episodes.frames]))

    def dream_starts(self, flat: dict[str, torch.Tensor] | None = None) -> tuple[torch.Tensor, Any]:
        """(latents (N, D), M's states there or None): where the controller's dream episodes begin; `flat` is
        flatten()'s encoding when the caller has it."""
        if self.config.dream_starts == "first":
            return self.initial_latents(), None
        flat = flat or self.flatten()
        total = int(flat["lengths"].sum())
        rng = np.random.default_rng(stream_seed(self.config.seed, "dream-starts", self.iteration))  # resumes alike
        chosen = torch.from_numpy(rng.choice(total, size=min(total, MAX_DREAM_STARTS), replace=False))
        return warmed_up_starts(self.model, flat, chosen)


    def train_controller(self, dream_steps: int, flat: dict[str, torch.Tensor] | None = None) -> dict[str, float]:
        """PPO, unchanged, on the dream; fresh dream episodes each iteration (M changed under them)."""
        self.dream.initial_latents, self.dream.initial_states = self.dream_starts(flat)
        self.dream.reward_bounds, self.dream.max_episode_steps = self.reward_bounds(), self.dream_horizon()
        if self.config.fresh_controller:
            self.controller.close()
            self.controller = self.make_controller()
        self.controller.start_rollouts(seed=stream_seed(self.config.seed, "dream-rollouts", self.iteration))
        target, returns, metrics = self.controller.progress + dream_steps, [], {}
        while self.controller.progress < target:
            metrics = self.controller.train_step()
            if "rollout/ep_return" in metrics:
                returns.append(metrics["rollout/ep_return"])
        figures = {f"controller/{key.partition('/')[2]}": value for key, value in metrics.items()
                   if key.startswith("train/")}
        if returns:
            figures["dream/ep_return"] = float(np.mean(returns[-5:]))
        return figures

    # ---- checkpoint ---------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        best = None if self.best is None else {part: net.state_dict() for part, net in self.best.items()}
        return {"controller": self.controller.state_dict(), "episodes": self.episodes.state_dict(),
                "iteration": self.iteration, "vae_steps": self.vae_steps, "best": best,
                "best_return": self.best_return}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.episodes.load_state_dict(state["episodes"])
        self.iteration, self.vae_steps = int(state["iteration"]), int(state["vae_steps"])
        self.dream.initial_latents, self.dream.initial_states = self.dream_starts()
        self.dream.reward_bounds, self.dream.max_episode_steps = self.reward_bounds(), self.dream_horizon()
        self.controller.load_state_dict(state["controller"])
        self.best_return, self.best = float(state.get("best_return", -float("inf"))), None
        if state.get("best") is not None:  # copies of the latest parts, which have the same shapes
            self.best = self.copy_of_latest()
            for part, net in self.best.items():
                net.load_state_dict(state["best"][part])
