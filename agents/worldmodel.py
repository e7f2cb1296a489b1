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
from gymforge.agents.dream import DreamVectorEnv, DynamicsModel, PessimisticEnsemble
from gymforge.agents.episodes import episode_seeds
from gymforge.agents.ppo import PPO, PPOConfig
from gymforge.envs.observations import channel_first_shape, image_layout, to_channel_first
from gymforge.generative.metrics import bernoulli_log_likelihood, gaussian_kl
from gymforge.generative.vae import VAEConfig, VAEModel
from gymforge.networks import make_optimizer
from gymnasium.wrappers.vector import RecordEpisodeStatistics

from gymforge.engine.config import config_from_dict
from gymforge.engine.errors import ConfigError, require
from gymforge.engine.estimator import Estimator
from gymforge.engine.seeding import stream_seed

HORIZONS = (1, 5, 15)
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
    channel's most common value, which fills the gap). DrQ's random shift made consistent over an episode: M then
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


class FrameObservation(gym.ObservationWrapper):
    """Image observations in any layout `image_layout` reads become channel-first frames (C, size, size),
    optionally grey; size 0 keeps theirs. Envs without pixel observations come here as envs.RenderedFrames."""

    def __init__(self, env: gym.Env, size: int, grayscale: bool) -> None:
        super().__init__(env)
        self.size, self.grayscale = size, grayscale
        self.layout = image_layout(env.observation_space)
        channels, height, width = channel_first_shape(env.observation_space)
        channels = 1 if grayscale else channels
        self.observation_space = gym.spaces.Box(0, 255, (channels, size or height, size or width), np.uint8)

    def observation(self, observation: Any) -> np.ndarray:
        from gymforge.envs.frames import _resize

        image = to_channel_first(observation, self.layout).transpose(1, 2, 0)  # (H, W, C)
        if self.size:
            image = _resize(image, self.size)
        if self.grayscale and image.shape[-1] > 1:
            image = image.mean(axis=-1, keepdims=True).round().astype(np.uint8)
        return np.ascontiguousarray(image.transpose(2, 0, 1))  # (C, H, W)


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


def shifted(frames: np.ndarray, max_shift: int) -> Iterator[np.ndarray]:
    """An episode's frames (T, C, H, W) moved right by each k in [-max_shift, max_shift] (the episode itself at 0)
    whose columns that would leave the frame hold only background in every frame; the background (each channel's
    most common value) fills the columns that open up."""
    background = np.array([np.bincount(channel.ravel(), minlength=256).argmax()
                           for channel in frames.swapaxes(0, 1)], dtype=frames.dtype)[:, None, None]  # (C, 1, 1)
    plain = (frames == background).all(axis=(0, 1, 2))  # (W,) columns of background alone
    width = frames.shape[-1]
    for k in range(-min(max_shift, width - 1), min(max_shift, width - 1) + 1):
        if k == 0:
            yield frames
        elif plain[width - k:].all() if k > 0 else plain[:-k].all():
            moved = np.empty_like(frames)
            moved[...] = background
            if k > 0:
                moved[..., k:] = frames[..., :width - k]
            else:
                moved[..., :k] = frames[..., -k:]
            yield moved


class Episodes:
    """Real episodes: frames (T + 1, C, H, W) uint8, actions (T, ...), rewards (T,), terminated at the end."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []
        self.rewards: list[np.ndarray] = []
        self.terminated: list[bool] = []

    def add(self, frames: list, actions: list, rewards: list, terminated: bool) -> None:
        if actions:
            self.frames.append(np.stack(frames))
            self.actions.append(np.asarray(actions))
            self.rewards.append(np.asarray(rewards, dtype=np.float32))
            self.terminated.append(terminated)

    def all_frames(self) -> np.ndarray:
        return np.concatenate(self.frames)

    def with_shifts(self, max_shift: int) -> Episodes:
        """Every episode followed by its copies moved sideways (see `shifted`); actions, rewards and ends as they
        were."""
        out = Episodes()
        for frames, actions, rewards, terminated in zip(self.frames, self.actions, self.rewards, self.terminated):
            for copy_ in shifted(frames, max_shift):
                out.frames.append(copy_)
                out.actions.append(actions)
                out.rewards.append(rewards)
                out.terminated.append(terminated)
        return out

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"frames": torch.from_numpy(np.concatenate(self.frames)),
                "actions": torch.from_numpy(np.concatenate(self.actions)),
                "rewards": torch.from_numpy(np.concatenate(self.rewards)),
                "lengths": torch.tensor([len(a) for a in self.actions]),
                "terminated": torch.tensor(self.terminated)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.__init__()
        frame_start = step_start = 0
        for length, terminated in zip(state["lengths"].tolist(), state["terminated"].tolist()):
            self.frames.append(state["frames"][frame_start:frame_start + length + 1].numpy())
            self.actions.append(state["actions"][step_start:step_start + length].numpy())
            self.rewards.append(state["rewards"][step_start:step_start + length].numpy())
            self.terminated.append(bool(terminated))
            frame_start, step_start = frame_start + length + 1, step_start + length


class WorldModel(Estimator):
    """The Learner: progress counts real environment steps; the controller never trains on real data."""

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
        from gymforge.envs import RenderedFrames, make_env

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

    def sequences(self, flat: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """A batch of (T, B) training windows from the episodes, gathered at once from the flat arrays of
        `flatten()`; steps past an episode's end repeat its last step and are masked out."""
        lengths = flat["lengths"]
        chosen = torch.from_numpy(self.rng.choice(len(lengths), size=self.config.batch_size,
                                                  p=(lengths / lengths.sum()).numpy()))
        length = lengths[chosen]  # (B,)
        window = min(self.config.sequence_length, int(length.max()))
        start = (torch.from_numpy(self.rng.random(len(chosen))) * ((length - window).clamp(min=0) + 1)).long()
        count = (length - start).clamp(max=window)  # (B,) real steps in each window
        t = torch.arange(window).unsqueeze(1)  # (T, 1)
        offset = start + torch.minimum(t, count - 1)  # (T, B) step inside the episode
        step, frame = flat["step_start"][chosen] + offset, flat["frame_start"][chosen] + offset
        mask = (t < count).float()
        ends = ((t == count - 1) & (start + count == length) & flat["terminated"][chosen]).float() * mask
        return (flat["latents"][frame], flat["actions"][step], flat["latents"][frame + 1], flat["rewards"][step],
                ends, mask)

    def flatten(self) -> dict[str, torch.Tensor]:
        """Every training episode's latents (V's posterior means), actions and rewards as flat tensors with
        offsets."""
        episodes = self.training_episodes()
        lengths = torch.tensor([len(a) for a in episodes.actions])
        step_start = torch.cumsum(lengths, 0) - lengths
        return {"latents": self.encode(episodes.all_frames()), "lengths": lengths, "step_start": step_start,
                "frame_start": step_start + torch.arange(len(lengths)),  # each episode has one frame more
                "actions": torch.as_tensor(np.concatenate(episodes.actions), device=self.device),
                "rewards": torch.as_tensor(np.concatenate(episodes.rewards), device=self.device),
                "terminated": torch.tensor(episodes.terminated)}

    def train_model(self, updates: int, flat: dict[str, torch.Tensor] | None = None) -> dict[str, float]:
        flat = flat or self.flatten()
        sums: dict[str, float] = {}
        for _ in range(updates):
            losses = self.model.losses(*self.sequences(flat))
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

    @torch.no_grad()
    def dream_starts(self, flat: dict[str, torch.Tensor] | None = None) -> tuple[torch.Tensor, Any]:
        """(latents (N, D), M's states there or None): where the controller's dream episodes begin; `flat` is
        flatten()'s encoding when the caller has it."""
        if self.config.dream_starts == "first":
            return self.initial_latents(), None
        flat = flat or self.flatten()
        lengths, step_start, frame_start = flat["lengths"], flat["step_start"], flat["frame_start"]
        total = int(lengths.sum())
        rng = np.random.default_rng(stream_seed(self.config.seed, "dream-starts", self.iteration))  # resumes alike
        chosen = torch.from_numpy(rng.choice(total, size=min(total, MAX_DREAM_STARTS), replace=False))
        episode = torch.searchsorted(step_start, chosen, right=True) - 1  # (N,) the episode of each start
        t = chosen - step_start[episode]  # (N,) its step inside the episode
        episodes = torch.unique(episode)  # M runs over these, all at once, step by step
        slot = torch.searchsorted(episodes, episode)  # (N,) each start's column in that batch
        state, latents, states = self.model.initial_state(len(episodes), self.device), [], []
        for step in range(int(t.max()) + 1):
            here = t == step
            latents.append(flat["latents"][frame_start[episode[here]] + step])
            states.append(tuple(s[:, slot[here]] for s in state) if isinstance(state, tuple)  # entering `step`
                          else state[:, slot[here]])
            offset = torch.minimum(torch.tensor(step), lengths[episodes] - 1)  # a finished episode idles
            _, state = self.model(flat["latents"][frame_start[episodes] + offset],
                                  flat["actions"][step_start[episodes] + offset], state)
        if isinstance(state, tuple):
            joined = tuple(torch.cat([s[i] for s in states], dim=1) for i in range(len(state)))
        else:
            joined = torch.cat(states, dim=1)
        return torch.cat(latents), joined

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

    # ---- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, split: str = "validation") -> dict[str, float]:
        """The deployed agent's greedy controller over eval_episodes real episodes (validation and test seeds
        differ), its M's fidelity figures on those held-out episodes, and its greedy return in its M's dream."""
        with self.deployed():
            require(split in ("validation", "test"), f"split must be validation or test, got {split!r}")
            config = self.config
            seed = episode_seeds(config.seed, split, 1)[0]  # the split's episode stream, as in every agent
            iteration, self.iteration = self.iteration, max(self.iteration, 1)  # an untrained run still uses C
            episodes = self.play(self.eval_env, config.eval_episodes, seed, greedy=True, max_steps=None)
            self.iteration = iteration
            self.last_episodes = episodes[:2]
            returns = [sum(e["rewards"]) for e in episodes]
            figures = {"mean_return": float(np.mean(returns)), "std_return": float(np.std(returns)),
                       "mean_length": float(np.mean([len(e["actions"]) for e in episodes])),
                       "episodes": float(len(episodes))}
            successes = [e["info"]["is_success"] for e in episodes if "is_success" in e["info"]]
            if successes:
                figures["success_rate"] = float(np.mean(successes))
            figures.update(self.fidelity(episodes))
            figures["dream_return"] = self.dream_return(config.eval_episodes, seed)
            figures["dream_gap"] = figures["dream_return"] - figures["mean_return"]
            return figures

    @torch.no_grad()
    def open_loop(self, frames: np.ndarray, actions: np.ndarray, horizon: int) -> tuple[torch.Tensor, ...]:
        """For every start t with t + horizon <= T: M warmed up on the real z_0..z_t, then run `horizon` steps on
        its own most likely latents under the real actions. Returns (predicted, real) latents (S, D)."""
        latents = self.encode(frames)  # (T + 1, D)
        actions_t = torch.as_tensor(np.asarray(actions), device=self.device)
        steps = len(actions_t)
        state, states = self.model.initial_state(1, self.device), []
        for t in range(steps - horizon + 1):  # the state entering step t
            states.append(state)
            _, state = self.model(latents[t:t + 1], actions_t[t:t + 1], state)
        starts = len(states)
        if isinstance(state, tuple):
            state = tuple(torch.cat([s[i] for s in states], dim=1) for i in range(len(state)))
        else:
            state = torch.cat(states, dim=1)
        predicted = latents[:starts]
        for j in range(horizon):
            prediction, state = self.model(predicted, actions_t[j:j + starts], state)
            predicted = DynamicsModel.most_likely(prediction)
        return predicted, latents[horizon:horizon + starts]

    @torch.no_grad()
    def fidelity(self, episodes: list[dict[str, Any]]) -> dict[str, float]:
        """Latent and frame MSE at horizons 1, 5, 15 (where episodes are long enough); one-step reward MSE; M's
        end probability (teacher-forced) at the real ends and at every other step."""
        figures: dict[str, float] = {}
        for horizon in HORIZONS:
            latent_errors, frame_errors = [], []
            for episode in episodes:
                if len(episode["actions"]) < horizon:
                    continue
                frames = np.stack(episode["frames"])
                predicted, real = self.open_loop(frames, np.asarray(episode["actions"]), horizon)
                latent_errors.append((predicted - real).square().mean(1))
                decoded = torch.sigmoid(self.vae.decode(predicted, None))
                target = torch.as_tensor(frames[horizon:horizon + len(predicted)], device=self.device).float() / 255
                frame_errors.append((decoded - target).square().flatten(1).mean(1))
            if latent_errors:
                figures[f"latent_error_h{horizon}"] = float(torch.cat(latent_errors).mean())
                figures[f"frame_error_h{horizon}"] = float(torch.cat(frame_errors).mean())
        reward_errors, at_ends, elsewhere = [], [], []
        for episode in episodes:
            latents = self.encode(np.stack(episode["frames"][:-1]))[:, None]  # (T, 1, D)
            actions = torch.as_tensor(np.asarray(episode["actions"]), device=self.device)[:, None]
            prediction, _ = self.model(latents, actions)
            reward_errors.append((prediction.reward[:, 0] - torch.tensor(episode["rewards"])).square())
            end = torch.sigmoid(prediction.end_logit[:, 0])
            cut = len(end) - 1 if episode["terminated"] else len(end)  # a cut-off episode has no real end
            at_ends.append(end[cut:])
            elsewhere.append(end[:cut])
        figures["reward_error"] = float(torch.cat(reward_errors).mean())
        for name, values in (("end_probability_at_ends", at_ends), ("end_probability_elsewhere", elsewhere)):
            values = torch.cat(values)
            if len(values):  # does M foresee the real ends (and only them)? A dream that ends at random cannot teach
                figures[name] = float(values.mean())
        return figures

    @torch.no_grad()
    def dream_return(self, episodes: int, seed: int) -> float:
        """The greedy controller's mean return over its first episode in each of `episodes` dream envs."""
        dream = DreamVectorEnv(self.model, self.initial_latents(), episodes, self.dream_horizon(),
                               self.config.temperature)
        dream.reward_bounds = self.reward_bounds()
        observation, _ = dream.reset(seed=seed)
        totals, alive = np.zeros(episodes), np.ones(episodes, dtype=bool)
        while alive.any():
            obs = torch.as_tensor(observation, device=self.device)
            action = self.controller.model.policy_distribution(obs).mode.cpu().numpy()
            observation, reward, terminated, truncated, _ = dream.step(self.controller.to_env_action(action))
            totals += reward * alive
            alive &= ~(terminated | truncated)
        return float(totals.mean())

    # ---- media --------------------------------------------------------------------------------------
    def log_media(self, logger: Any, step: int) -> None:
        """V's reconstructions, and M's open-loop frames against the real ones, of the last evaluation."""
        with self.deployed():
            if not self.last_episodes:
                return
            frames = np.stack(self.last_episodes[0]["frames"])
            with torch.no_grad():
                reconstructions = torch.sigmoid(self.vae.decode(self.encode(frames), None))
            reconstructions = (reconstructions.cpu().numpy() * 255).round().astype(np.uint8)
            logger.image("vae/reconstructions", strip([frames[:16], reconstructions[:16]]), step)
            imagined = self.imagine(frames[0], self.last_episodes[0]["actions"])
            logger.image("model/predicted_vs_real", strip([frames[1:17], imagined[:16]]), step)

    @torch.no_grad()
    def imagine(self, first_frame: np.ndarray, actions: list) -> np.ndarray:
        """M's open-loop frames (T, C, H, W) uint8 from one real frame under the given actions."""
        latent, state, frames = self.encode(first_frame[None]), self.model.initial_state(1, self.device), []
        for action in actions:
            prediction, state = self.model(latent, torch.as_tensor(np.asarray(action)[None], device=self.device),
                                           state)
            latent = DynamicsModel.most_likely(prediction)
            frames.append(torch.sigmoid(self.vae.decode(latent, None))[0].cpu().numpy())
        return (np.stack(frames) * 255).round().astype(np.uint8)

    @torch.no_grad()
    def dream_video(self, steps: int, seed: int, temperature: float | None = None) -> tuple[list[np.ndarray], ...]:
        """The greedy controller's dream (decoded) beside its real episode from the same first frame:
        (frames (H, 2W, 3) uint8, dream return, real return)."""
        with self.deployed():
            iteration, self.iteration = self.iteration, max(self.iteration, 1)
            real = self.play(self.eval_env, 1, seed, greedy=True, max_steps=steps)[0]
            self.iteration = iteration
            temperature = self.config.temperature if temperature is None else temperature
            dream = DreamVectorEnv(self.model, self.encode(real["frames"][0][None]), 1, steps, temperature)
            dream.reward_bounds = self.reward_bounds()
            observation, _ = dream.reset(seed=seed)
            imagined, dream_return, latent_dim = [real["frames"][0]], 0.0, self.config.latent_dim
            for _ in range(steps):
                action = self.controller.model.policy_distribution(torch.as_tensor(observation)).mode.cpu().numpy()
                observation, reward, terminated, truncated, _ = dream.step(self.controller.to_env_action(action))
                dream_return += float(reward[0])
                decoded = torch.sigmoid(self.vae.decode(torch.as_tensor(observation[:, :latent_dim]), None))[0]
                imagined.append((decoded.cpu().numpy() * 255).round().astype(np.uint8))
                if terminated[0] or truncated[0]:
                    break
            length = max(len(imagined), len(real["frames"]))
            pad = lambda frames: list(frames) + [frames[-1]] * (length - len(frames))  # noqa: E731
            pictures = [strip([np.stack([a, b])]) for a, b in zip(pad(imagined), pad(real["frames"]))]
            return pictures, dream_return, float(sum(real["rewards"]))

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


def strip(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of (N, C, H, W) uint8 frames as one (rows * H, N * W, 3) image, upscaled so small frames show."""
    width = max(len(row) for row in rows)
    height = rows[0].shape[2]
    scale = max(1, 64 // height)
    lines = []
    for row in rows:
        row = np.concatenate([row, np.zeros((width - len(row), *row.shape[1:]), np.uint8)]) if len(row) < width else row
        line = np.concatenate(list(row.transpose(0, 2, 3, 1)), axis=1)  # (H, N * W, C)
        lines.append(line)
    image = np.concatenate(lines, axis=0)
    image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


