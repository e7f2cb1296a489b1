"""Observation and reward normalization for vector envs whose running statistics travel with an agent.

Gymnasium's vector `NormalizeObservation`/`NormalizeReward` do the work (batched updates, NEXT_STEP
autoreset handled); these subclasses add a `training` switch (statistics frozen when False, for evaluation)
and `get_state()`/`set_state()` as plain arrays and floats, so a checkpoint can hold them and a resumed
or evaluated agent sees observations scaled exactly as in training. As in Stable-Baselines3's VecNormalize,
normalized observations and rewards are clipped to [-10, 10], and the discounted return whose spread scales
the rewards restarts at every episode end, truncations included (Gymnasium 1.4 restarts it only at a
termination, so a time-limited task's return grows across episodes and its rewards shrink).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError
from gymforge.envs.observations import is_image_space
from gymforge.networks.standardize import Standardize
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper
from gymnasium.wrappers import utils as gym_utils
from gymnasium.wrappers import vector as gym_vector


class RunningMeanStd(gym_utils.RunningMeanStd):
    """Gymnasium's parallel mean/variance tracker over batches, with its state as plain arrays."""

    def get_state(self) -> dict[str, Any]:
        return {"mean": np.array(self.mean, copy=True), "var": np.array(self.var, copy=True), "count": float(self.count)}

    def set_state(self, state: dict[str, Any]) -> None:
        mean, var = np.asarray(state["mean"]), np.asarray(state["var"])
        if mean.shape != np.shape(self.mean) or var.shape != np.shape(self.var):
            raise EnvError(
                f"Saved normalization statistics have shape {mean.shape} but this environment needs "
                f"{np.shape(self.mean)}; load them into the environment they were saved from."
            )
        self.mean = mean.astype(np.asarray(self.mean).dtype)
        self.var = var.astype(np.asarray(self.var).dtype)
        self.count = float(state["count"])


class _Trainable:
    """The `training` flag: True updates the running statistics, False freezes them."""

    @property
    def training(self) -> bool:
        return self.update_running_mean

    @training.setter
    def training(self, value: bool) -> None:
        self.update_running_mean = bool(value)


class NormalizeObservation(_Trainable, gym_vector.NormalizeObservation):
    """Scale each observation coordinate of a vector env to about zero mean and unit variance (float32)."""

    def __init__(self, env: VectorEnv, epsilon: float = 1e-8, training: bool = True, clip: float = 10.0):
        """Image observations are refused: a uint8 buffer cannot hold normalized floats, and the CNN already
        scales pixels to [0, 1]."""
        if is_image_space(env.single_observation_space):
            raise EnvError(f"observation normalization scales vectors, but these observations are uint8 images "
                           f"{env.single_observation_space.shape}, which the CNN scales to [0, 1] itself; "
                           "drop --normalize-observation")
        super().__init__(env, epsilon=epsilon)
        self.obs_rms = RunningMeanStd(shape=self.single_observation_space.shape, dtype=np.float64)
        self.training = training
        self.clip = clip

    def observations(self, observations: np.ndarray) -> np.ndarray:
        return np.clip(super().observations(observations), -self.clip, self.clip)

    def get_state(self) -> dict[str, Any]:
        return {"obs_rms": self.obs_rms.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.obs_rms.set_state(state["obs_rms"])


class NormalizeReward(_Trainable, gym_vector.NormalizeReward):
    """Scale rewards so that the discounted return has about unit variance (terminated/truncated untouched)."""

    def __init__(self, env: VectorEnv, gamma: float = 0.99, epsilon: float = 1e-8, training: bool = True,
                 clip: float = 10.0):
        super().__init__(env, gamma=gamma, epsilon=epsilon)
        self.return_rms = RunningMeanStd(shape=())
        self.training = training
        self.clip = clip

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """SB3 VecNormalize's update: return = gamma * return + reward, statistics updated, reward scaled by the
        return's std and clipped, and the return zeroed where the episode ended (terminated OR truncated)."""
        observations, rewards, terminated, truncated, infos = VectorWrapper.step(self, actions)
        if self._autoreset_mode == AutoresetMode.SAME_STEP:
            active = np.ones(self.num_envs, dtype=bool)
        else:  # NEXT_STEP / DISABLED: the step after an episode's end is a reset step, not part of a return
            active = ~self._prev_dones.astype(bool)
        self.accumulated_reward[active] = self.accumulated_reward[active] * self.gamma + rewards[active]
        if self._update_running_mean and active.any():
            self.return_rms.update(self.accumulated_reward[active])
        ended = np.logical_or(terminated, truncated)
        self.accumulated_reward[ended] = 0.0
        self._prev_dones = ended.astype(np.float32)
        scaled = np.clip(rewards / np.sqrt(self.return_rms.var + self.epsilon), -self.clip, self.clip)
        return observations, scaled, terminated, truncated, infos

    def get_state(self) -> dict[str, Any]:
        return {"return_rms": self.return_rms.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.return_rms.set_state(state["return_rms"])


def _normalizers(env: gym.Env | VectorEnv) -> list[NormalizeObservation | NormalizeReward]:
    found = []
    while True:
        if isinstance(env, (NormalizeObservation, NormalizeReward)):
            found.append(env)
        if not hasattr(env, "env"):
            return found
        env = env.env


def observation_standardizer(env: gym.Env | VectorEnv) -> Standardize | None:
    """The frozen observation normalization `env`'s NormalizeObservation applies (its statistics, epsilon and
    clip), as one module for acting and export; None when `env` does not normalize observations."""
    found = [wrapper for wrapper in _normalizers(env) if isinstance(wrapper, NormalizeObservation)]
    if not found:
        return None
    wrapper = found[0]
    return Standardize(wrapper.obs_rms.mean, wrapper.obs_rms.var, wrapper.epsilon, wrapper.clip)


def normalization_state(env: gym.Env | VectorEnv) -> dict[str, Any]:
    """The statistics of every normalizer in `env`'s wrapper chain, keyed by wrapper class, for a checkpoint."""
    return {type(wrapper).__name__: wrapper.get_state() for wrapper in _normalizers(env)}


def load_normalization_state(env: gym.Env | VectorEnv, state: dict[str, Any], training: bool | None = None) -> None:
    """Restore statistics saved by `normalization_state`; `training=False` also freezes them (evaluation)."""
    for wrapper in _normalizers(env):
        name = type(wrapper).__name__
        if name not in state:
            raise EnvError(f"The saved state has no {name} statistics; save it from an env with the same wrappers.")
        wrapper.set_state(state[name])
        if training is not None:
            wrapper.training = training
