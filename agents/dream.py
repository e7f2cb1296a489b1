"""The world model's M and its dream: a recurrent mixture-density model of the next latent, reward and end.

`DynamicsModel` is the paper's MDN-RNN (Ha & Schmidhuber 2018): an LSTM/GRU core from networks/ over
(latent, action) whose head gives, per latent dimension, a mixture of K Gaussians for the next latent, plus
the reward and a termination logit. `DreamVectorEnv` runs it as a batched Gymnasium VectorEnv, so an
unchanged PPO trains a controller inside it. The controller observes [latent, hidden state].
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from gymforge.networks import RecurrentCore
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from torch import nn

MIN_LOG_STD = -4.0  # std >= 0.018: deterministic dynamics do not blow the NLL gradients up


class Prediction(NamedTuple):
    """M's output for every step: mixture logits, means, log-stds (..., D, K); reward and end logit (...)."""

    logit_weights: torch.Tensor
    means: torch.Tensor
    log_stds: torch.Tensor
    reward: torch.Tensor
    end_logit: torch.Tensor


def action_features(action_space: gym.Space) -> int:
    """How many numbers an action becomes at M's input: one-hot for Discrete, the vector for Box."""
    if isinstance(action_space, gym.spaces.Discrete):
        return int(action_space.n)
    if isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1:
        return int(action_space.shape[0])
    raise ValueError(f"the world model handles Discrete and flat Box actions, got {action_space}")


def encode_actions(actions: torch.Tensor, action_space: gym.Space) -> torch.Tensor:
    """(...,) integer or (..., A) float actions -> (..., A) float features."""
    if isinstance(action_space, gym.spaces.Discrete):
        return F.one_hot(actions.long() - int(action_space.start), int(action_space.n)).float()
    return actions.float()


class DynamicsModel(nn.Module):
    """M: (z_t, a_t) and the recurrent state -> p(z_{t+1}) as a per-dimension Gaussian mixture, r_t, end_t."""

    def __init__(self, latent_dim: int, action_space: gym.Space, hidden_size: int = 128, kind: str = "lstm",
                 mixtures: int = 5) -> None:
        super().__init__()
        self.latent_dim, self.mixtures, self.action_space = latent_dim, mixtures, action_space
        self.core = RecurrentCore(kind, latent_dim + action_features(action_space), hidden_size)
        self.head = nn.Linear(hidden_size, 3 * latent_dim * mixtures + 2)
        self.hidden_size = hidden_size

    def initial_state(self, batch_size: int, device: torch.device | None = None) -> Any:
        return self.core.initial_state(batch_size, device)

    @staticmethod
    def hidden(state: Any) -> torch.Tensor:
        """The top layer's h of a state, (B, H): what the controller sees."""
        h = state[0] if isinstance(state, tuple) else state
        return h[-1]

    def forward(self, latents: torch.Tensor, actions: torch.Tensor, state: Any = None,
                episode_starts: torch.Tensor | None = None) -> tuple[Prediction, Any]:
        """latents (T, B, D) and actions (T, B) or (T, B, A), time-major; a single step drops the T axis."""
        inputs = torch.cat([latents, encode_actions(actions, self.action_space)], dim=-1)
        out, state = self.core(inputs, state, episode_starts)  # (T, B, H)
        return self.predict(out), state

    def predict(self, out: torch.Tensor) -> Prediction:
        size = self.latent_dim * self.mixtures
        raw = self.head(out)
        shape = (*out.shape[:-1], self.latent_dim, self.mixtures)
        return Prediction(raw[..., :size].reshape(shape), raw[..., size:2 * size].reshape(shape),
                          raw[..., 2 * size:3 * size].reshape(shape).clamp(min=MIN_LOG_STD, max=2.0),
                          raw[..., -2], raw[..., -1])

    @staticmethod
    def latent_nll(prediction: Prediction, target: torch.Tensor) -> torch.Tensor:
        """-log p(target) under the mixture, summed over latent dimensions: target (..., D) -> (...)."""
        target = target.unsqueeze(-1)  # (..., D, 1)
        log_weights = F.log_softmax(prediction.logit_weights, dim=-1)
        log_normal = (-0.5 * ((target - prediction.means) / prediction.log_stds.exp()).square()
                      - prediction.log_stds - 0.5 * np.log(2 * np.pi))
        return -torch.logsumexp(log_weights + log_normal, dim=-1).sum(-1)

    @staticmethod
    def most_likely(prediction: Prediction) -> torch.Tensor:
        """The mean of each dimension's heaviest component: the deterministic (temperature 0) next latent."""
        index = prediction.logit_weights.argmax(-1, keepdim=True)
        return prediction.means.gather(-1, index).squeeze(-1)

    @staticmethod
    def sample(prediction: Prediction, temperature: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """A next latent at `temperature` (the paper's tau: weights sharpened or flattened, stds scaled by
        sqrt(tau)); 0 gives the most likely one."""
        if temperature <= 0:
            return DynamicsModel.most_likely(prediction)
        probabilities = F.softmax(prediction.logit_weights / temperature, dim=-1)  # (..., D, K)
        flat = probabilities.reshape(-1, probabilities.shape[-1])
        index = torch.multinomial(flat, 1, generator=generator).view(*probabilities.shape[:-1], 1)
        mean = prediction.means.gather(-1, index).squeeze(-1)
        std = prediction.log_stds.gather(-1, index).squeeze(-1).exp() * temperature ** 0.5
        noise = torch.randn(mean.shape, generator=generator, device=mean.device)
        return mean + std * noise

    def losses(self, latents: torch.Tensor, actions: torch.Tensor, next_latents: torch.Tensor,
               rewards: torch.Tensor, terminated: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """Teacher-forced losses of (T, B) sequences that start at zero state; mask marks real steps."""
        prediction, _ = self(latents, actions)
        count = mask.sum().clamp(min=1.0)
        return {"latent_nll": (self.latent_nll(prediction, next_latents) * mask).sum() / count / self.latent_dim,
                "reward_mse": ((prediction.reward - rewards).square() * mask).sum() / count,
                "end_bce": (F.binary_cross_entropy_with_logits(prediction.end_logit, terminated, reduction="none")
                            * mask).sum() / count}


class PessimisticEnsemble(nn.Module):
    """K independently initialised Ms, stepped together; the dream sees their pessimistic consensus.

    A controller trained in one model's dream farms that model's errors (a pole that falls later than the real
    one, a catch M wrongly promises). Where the members disagree the error is likely, so, as in ME-TRPO and MOPO,
    the dream takes the members' union for the next latent (one mixture of all K x mixtures components,
    equally weighted per member), the lowest reward and the highest end probability. The interface is
    DynamicsModel's: the recurrent state stacks the members' layers on axis 0 (batch stays axis 1), and the
    controller sees the last member's hidden state.
    """

    def __init__(self, members: int, latent_dim: int, action_space: gym.Space, hidden_size: int = 128,
                 kind: str = "lstm", mixtures: int = 5) -> None:
        super().__init__()
        if members < 2:
            raise ValueError(f"an ensemble needs at least 2 members, got {members}")
        self.members = nn.ModuleList(DynamicsModel(latent_dim, action_space, hidden_size, kind, mixtures)
                                     for _ in range(members))
        self.latent_dim, self.action_space, self.hidden_size = latent_dim, action_space, hidden_size
        self.layers = self.members[0].core.num_layers * self.members[0].core.directions

    def initial_state(self, batch_size: int, device: torch.device | None = None) -> Any:
        return self.join([member.initial_state(batch_size, device) for member in self.members])

    hidden = staticmethod(DynamicsModel.hidden)

    @staticmethod
    def join(states: list[Any]) -> Any:
        if isinstance(states[0], tuple):
            return tuple(torch.cat(parts, dim=0) for parts in zip(*states))
        return torch.cat(states, dim=0)

    def split(self, state: Any) -> list[Any]:
        if state is None:
            return [None] * len(self.members)
        if isinstance(state, tuple):
            return list(zip(*(part.split(self.layers, dim=0) for part in state)))
        return list(state.split(self.layers, dim=0))

    def each(self, latents: torch.Tensor, actions: torch.Tensor, state: Any = None,
             episode_starts: torch.Tensor | None = None) -> tuple[list[Prediction], Any]:
        """Every member's own prediction from its own part of the state, and the joined new state."""
        outputs = [member(latents, actions, part, episode_starts)
                   for member, part in zip(self.members, self.split(state))]
        return [prediction for prediction, _ in outputs], self.join([new for _, new in outputs])

    def forward(self, latents: torch.Tensor, actions: torch.Tensor, state: Any = None,
                episode_starts: torch.Tensor | None = None) -> tuple[Prediction, Any]:
        predictions, state = self.each(latents, actions, state, episode_starts)
        count = len(predictions)
        return Prediction(
            torch.cat([F.log_softmax(p.logit_weights, dim=-1) - np.log(count) for p in predictions], dim=-1),
            torch.cat([p.means for p in predictions], dim=-1), torch.cat([p.log_stds for p in predictions], dim=-1),
            torch.stack([p.reward for p in predictions]).amin(0),
            torch.stack([p.end_logit for p in predictions]).amax(0)), state

    def losses(self, latents: torch.Tensor, actions: torch.Tensor, next_latents: torch.Tensor,
               rewards: torch.Tensor, terminated: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """The members' mean losses: each member is fitted alone (its gradient does not flow through the others)."""
        losses = [member.losses(latents, actions, next_latents, rewards, terminated, mask) for member in self.members]
        return {key: torch.stack([loss[key] for loss in losses]).mean() for key in losses[0]}


@torch.no_grad()
def warmed_up_starts(model: DynamicsModel | PessimisticEnsemble, flat: dict[str, torch.Tensor],
                     chosen: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """(latents (N, D), M's states entering them): the `chosen` real steps (indices into the flat steps of the
    world model's episode store) as dream starts, M's state warmed up on each episode's steps before them."""
    lengths, step_start, frame_start = flat["lengths"], flat["step_start"], flat["frame_start"]
    device = flat["latents"].device
    episode = torch.searchsorted(step_start, chosen, right=True) - 1  # (N,) the episode of each start
    t = chosen - step_start[episode]  # (N,) its step inside the episode
    episodes = torch.unique(episode)  # M runs over these, all at once, step by step
    slot = torch.searchsorted(episodes, episode)  # (N,) each start's column in that batch
    state, latents, states = model.initial_state(len(episodes), device), [], []
    for step in range(int(t.max()) + 1):
        here = t == step
        latents.append(flat["latents"][frame_start[episode[here]] + step])
        states.append(tuple(s[:, slot[here]] for s in state) if isinstance(state, tuple)  # entering `step`
                      else state[:, slot[here]])
        offset = torch.minimum(torch.tensor(step), lengths[episodes] - 1)  # a finished episode idles
        _, state = model(flat["latents"][frame_start[episodes] + offset],
                         flat["actions"][step_start[episodes] + offset], state)
    if isinstance(state, tuple):
        joined = tuple(torch.cat([s[i] for s in states], dim=1) for i in range(len(state)))
    else:
        joined = torch.cat(states, dim=1)
    return torch.cat(latents), joined


class DreamVectorEnv(VectorEnv):
    """M as a batched vector env: observations are [z, h] float32 vectors, actions the real env's.

    Episodes start from real latents (drawn from `initial_latents`) with M's state there (`initial_states`, as
    M's state with the batch axis over the starts) or, without them, a zero state (first frames);
    end when M says so (`terminated`: drawn with M's probability, or above 0.5 at temperature 0) or after
    `max_episode_steps`
    (`truncated`, never merged with terminated). Autoreset is Gymnasium's NEXT_STEP mode, as the
    standard vector envs: the step after an end resets that sub-env and returns reward 0.
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(self, model: DynamicsModel, initial_latents: torch.Tensor, num_envs: int,
                 max_episode_steps: int, temperature: float = 1.0, initial_states: Any = None) -> None:
        if len(initial_latents) == 0:
            raise ValueError("the dream needs at least one initial latent")
        self.model, self.temperature = model, temperature
        self.initial_latents = initial_latents.detach().float()
        self.initial_states = initial_states
        self.device = self.initial_latents.device
        self.num_envs, self.max_episode_steps = num_envs, max_episode_steps
        size = model.latent_dim + model.hidden_size
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)
        self.single_action_space = model.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(0)
        self.latent = torch.zeros(num_envs, model.latent_dim, device=self.device)
        self.state = model.initial_state(num_envs, self.device)
        self.elapsed = torch.zeros(num_envs, dtype=torch.long, device=self.device)
        self.needs_reset = torch.zeros(num_envs, dtype=torch.bool, device=self.device)
        self.reward_bounds: tuple[float, float] | None = None
        """Rewards are clipped to this range (the real rewards seen), so M's errors cannot promise more."""

    def _start(self, which: torch.Tensor) -> None:
        """Begin new episodes where `which` (B,) is true."""
        count = int(which.sum())
        if count == 0:
            return
        index = torch.randint(len(self.initial_latents), (count,), generator=self.generator, device=self.device)
        self.latent[which] = self.initial_latents[index]
        states, tupled = (self.state, True) if isinstance(self.state, tuple) else ((self.state,), False)
        if self.initial_states is None:  # an empty memory, as at a real first frame
            keep = (~which).float().view(1, -1, 1)
            states = tuple(state * keep for state in states)
        else:  # M's state after the real steps that led to each start
            starts = self.initial_states if tupled else (self.initial_states,)
            states = tuple(state.clone() for state in states)
            for state, start in zip(states, starts):
                state[:, which] = start[:, index]
        self.state = states if tupled else states[0]
        self.elapsed[which] = 0

    def _observation(self) -> np.ndarray:
        hidden = self.model.hidden(self.state)
        return torch.cat([self.latent, hidden], dim=1).cpu().numpy().astype(np.float32)  # (B, D + H)

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        if isinstance(seed, (list, tuple)):
            seed = seed[0]
        if seed is not None:
            self.generator.manual_seed(int(seed))
        self.state = self.model.initial_state(self.num_envs, self.device)
        self._start(torch.ones(self.num_envs, dtype=torch.bool, device=self.device))
        self.needs_reset.zero_()
        return self._observation(), {}

    @torch.no_grad()
    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        actions = torch.as_tensor(np.asarray(actions), device=self.device)
        prediction, self.state = self.model(self.latent, actions, self.state)
        self.latent = DynamicsModel.sample(prediction, self.temperature, self.generator)
        reward = prediction.reward.clone()
        if self.reward_bounds is not None:
            reward = reward.clamp(*self.reward_bounds)
        end_probability = torch.sigmoid(prediction.end_logit)
        if self.temperature > 0:  # M's hazard, sampled: a rare end (CartPole's fall) is never above 0.5
            terminated = torch.rand(end_probability.shape, generator=self.generator,
                                    device=self.device) < end_probability
        else:
            terminated = end_probability > 0.5
        self.elapsed += 1
        truncated = (self.elapsed >= self.max_episode_steps) & ~terminated
        resetting = self.needs_reset.clone()  # these sub-envs ended last step: this step starts them afresh
        self._start(resetting)
        reward[resetting] = 0.0
        terminated &= ~resetting
        truncated &= ~resetting
        self.needs_reset = terminated | truncated
        return (self._observation(), reward.cpu().numpy().astype(np.float64), terminated.cpu().numpy(),
                truncated.cpu().numpy(), {})

    def close_extras(self, **kwargs: Any) -> None:
        pass
