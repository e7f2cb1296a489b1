"""The standard Atari stack (DQN/PPO papers, Machado et al. 2018) on Gymnasium's AtariPreprocessing.

Gymnasium covers no-op resets, frame skipping with max-pooling, 84x84 grayscale (AtariPreprocessing),
reward clipping (ClipReward) and frame stacking (FrameStackObservation). What it lacks is written here:
`EpisodicLife` (AtariPreprocessing's `terminal_on_life_loss` restarts the whole game on every lost life,
so the agent would never see the later lives) and `FireReset` (games that wait for FIRE to start).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymforge.envs.errors import EnvError
from gymforge.envs.make import make_env, resolve_env_id
from gymnasium.wrappers import AtariPreprocessing, ClipReward, FrameStackObservation


class EpisodicLife(gym.Wrapper):
    """For training only: losing a life sets `terminated` (never `truncated`), but the game goes on.

    The next `reset()` only takes a no-op step to continue the same game, unless the game really ended
    (game over or a time-limit truncation), in which case it truly resets. Value targets then stop at each
    lost life, which speeds up learning; evaluation must see whole games, so it never uses this wrapper.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self._lives = 0
        self._game_over = True

    def _ale_lives(self) -> int:
        return int(self.env.unwrapped.ale.lives())

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._game_over = terminated or truncated
        lives = self._ale_lives()
        if 0 < lives < self._lives:
            terminated = True  # a lost life ends the training episode; truncated stays what the game said
        self._lives = lives
        return observation, reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        if self._game_over or seed is not None:
            observation, info = self.env.reset(seed=seed, options=options)
        else:
            observation, _, terminated, truncated, info = self.env.step(0)  # no-op: continue the same game
            if terminated or truncated:
                observation, info = self.env.reset(options=options)
        self._game_over = False
        self._lives = self._ale_lives()
        return observation, info


class FireReset(gym.Wrapper):
    """Press FIRE after every reset, and after every lost life that does not end the episode, for games
    (Breakout, ...) that otherwise wait forever for it: in training EpisodicLife turns a lost life into a reset,
    in evaluation (whole games) the game goes on, and a policy that never presses FIRE would stall until the
    ALE's 108k-frame limit instead of ending its game."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        meanings = env.unwrapped.get_action_meanings()
        if len(meanings) < 3 or meanings[1] != "FIRE":
            raise EnvError(f"FireReset needs a game whose action 1 is FIRE, got actions {meanings}.")
        self._lives = 0

    def _ale_lives(self) -> int:
        return int(self.env.unwrapped.ale.lives())

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        lives = self._ale_lives()
        if lives < self._lives and not (terminated or truncated):
            observation, extra, terminated, truncated, info = self.env.step(1)  # FIRE relaunches the ball
            reward += extra
        self._lives = lives
        return observation, reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        self.env.reset(seed=seed, options=options)
        for action in (1, 2):  # FIRE, then another move, as the usual protocol does
            observation, _, terminated, truncated, info = self.env.step(action)
            if terminated or truncated:
                observation, info = self.env.reset(options=options)
        self._lives = self._ale_lives()
        return observation, info


def atari_wrappers(env: gym.Env, training: bool, frame_stack: int = 4) -> gym.Env:
    """Wrap a frameskip=1 ALE env: no-ops, skip 4 + max-pool, 84x84 gray, FIRE, 4-frame stack (4, 84, 84) uint8.

    With `training=True` a lost life also ends the episode (`terminated`) and rewards are clipped to [-1, 1]
    (their sign, as Atari rewards are integers); with `training=False` whole games and raw scores are seen.
    """
    if not hasattr(env.unwrapped, "ale"):
        raise EnvError(f"The Atari wrappers need an ALE game such as 'ALE/Pong-v5', got {env.unwrapped}.")
    try:
        env = AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84, grayscale_obs=True)
    except gym.error.DependencyNotInstalled as error:  # it resizes with OpenCV
        raise EnvError(
            "Gymnasium's AtariPreprocessing needs OpenCV: run `pip install opencv-python-headless`."
        ) from error
    if training:
        env = EpisodicLife(env)
    if "FIRE" in env.unwrapped.get_action_meanings():
        env = FireReset(env)
    if training:
        env = ClipReward(env, -1.0, 1.0)
    return FrameStackObservation(env, frame_stack)


def make_atari_env(
    env_id: str, seed: int | None = None, training: bool = True, render_mode: str | None = None, **kwargs: Any
) -> gym.Env:
    """Make an Atari game (e.g. "ALE/Pong-v5") with the standard wrapper stack; needs `gymforge[atari]`.

    Episode statistics (`info["episode"]`) are recorded below the stack: whole games with raw scores, their
    length counted in emulator frames (4 per agent step).
    """
    spec = gym.spec(resolve_env_id(env_id))
    if "ale_py" not in str(spec.entry_point):
        raise EnvError(f"'{spec.id}' is not an Atari game; use an ALE id such as 'ALE/Pong-v5', or make_env.")
    kwargs.setdefault("frameskip", 1)  # AtariPreprocessing does the skipping, with max-pooling
    env = atari_wrappers(make_env(env_id, render_mode=render_mode, **kwargs), training=training)
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env

