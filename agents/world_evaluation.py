"""The world model's evaluation and pictures: the deployed agent in the real env, and how faithful its M is.

A mixin of WorldModel (agents/worldmodel.py), kept apart so each file holds one part: it reads the learner's V
(`vae`, `encode`), M (`model`), C (`controller`), `deployed()` and `play()`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymforge.agents.dream import DreamVectorEnv, DynamicsModel
from gymforge.agents.episodes import episode_seeds, evaluate_greedy

from gymforge.engine.errors import require

HORIZONS = (1, 5, 15)


class WorldModelEvaluation:
    """evaluate() through the shared evaluation, M's fidelity figures, the dream's return, and the media."""

    def evaluate(self, split: str = "validation") -> dict[str, float]:
        """The deployed agent's greedy controller over eval_episodes real episodes of `split`'s seed stream, played
        by the shared evaluation (agents/episodes.py: the figures with their 95% intervals), its M's fidelity
        figures on those held-out episodes, and its greedy return in its M's dream."""
        with self.deployed():
            require(split in ("validation", "test"), f"split must be validation or test, got {split!r}")
            config, recorded = self.config, []
            figures = evaluate_greedy(self, split, make_env=lambda: EpisodeRecorder(self.make_env(), recorded))
            seeds = episode_seeds(config.seed, split, config.eval_episodes)
            episodes = [recorded.pop([e["seed"] for e in recorded].index(seed)) for seed in seeds]  # seed order
            self.last_episodes = episodes[:2]
            figures.update(self.fidelity(episodes))
            figures["dream_return"] = self.dream_return(config.eval_episodes, seeds[0])
            figures["dream_gap"] = figures["dream_return"] - figures["mean_return"]
            return figures

    def batched_policy(self, n_envs: int) -> Any:
        """Greedy actions for n_envs frames at a time (agents/episodes.py's BatchPolicy): V encodes each frame, C acts
        on [z, h], and M keeps one memory per env, cleared where `starts` marks an episode's first frame."""
        vae, model, network = self.vae, self.model, self.controller.model
        memory = {"state": model.initial_state(n_envs, self.device)}

        @torch.no_grad()
        def act(observations: np.ndarray, starts: np.ndarray) -> np.ndarray:
            keep = torch.as_tensor(~np.asarray(starts), dtype=torch.float32, device=self.device).view(1, -1, 1)
            state = memory["state"]
            state = tuple(part * keep for part in state) if isinstance(state, tuple) else state * keep
            latent = self.encode(np.asarray(observations), vae)  # (N, D)
            action = network.policy_distribution(torch.cat([latent, model.hidden(state)], -1)).mode
            _, memory["state"] = model(latent, action, state)
            return self.controller.to_env_action(action.cpu().numpy())

        return act

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


class EpisodeRecorder(gym.Wrapper):
    """Appends each episode it plays to `episodes`: its reset seed, frames, actions, rewards and whether it
    terminated; M's fidelity is scored on exactly the episodes the shared evaluation played."""

    def __init__(self, env: gym.Env, episodes: list[dict[str, Any]]) -> None:
        super().__init__(env)
        self.episodes, self.current = episodes, None

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        observation, info = self.env.reset(seed=seed, options=options)
        self.current = None  # an unseeded reset parks a sub-env once every episode is dealt: not an episode
        if seed is not None:
            self.current = {"seed": seed, "frames": [observation], "actions": [], "rewards": [], "terminated": False}
            self.episodes.append(self.current)
        return observation, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        if self.current is None:
            return observation, reward, terminated, truncated, info
        self.current["frames"].append(observation)
        self.current["actions"].append(action)
        self.current["rewards"].append(float(reward))
        self.current["terminated"] = bool(terminated)
        return observation, reward, terminated, truncated, info


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
