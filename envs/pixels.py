"""Pixels for non-Atari envs: learn from any env's rendered frames (`RenderedFrames`), and make image
observations cheaper (CarRacing-v3 and the like): repeat each action, grey the frames, stack the last few.
Atari games get their own stack (envs/atari.py); this one is for every other image env.

Each step is Gymnasium's own wrapper: `MaxAndSkipObservation` (the action repeated `frame_skip` times, rewards
summed, an episode's end honoured at once), `GrayscaleObservation` and `FrameStackObservation`. A stack of image
frames in any layout (colour, grey (H, W), channel-first like Catch's) becomes one channel-first image
(k*C, H, W), so the shared pipeline sees an image, not a rank-4 vector. `FrameObservation` gives the world model
its channel-first frames of a chosen size.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError
from gymforge.envs.frames import _as_hwc, _resize
from gymforge.envs.observations import channel_first_shape, image_layout, is_image_space, to_channel_first
from gymnasium import spaces
from gymnasium.wrappers import FlattenObservation, FrameStackObservation, GrayscaleObservation, MaxAndSkipObservation


class RenderedFrames(gym.ObservationWrapper):
    """Observations become the env's own `render()` frames, (size, size, C) uint8 (CartPole from pixels).

    The env must be made with render_mode="rgb_array"; the state observation is dropped, so a policy that
    needs velocities must stack frames or remember them.
    """

    def __init__(self, env: gym.Env, size: int) -> None:
        super().__init__(env)
        if "rgb_array" not in env.metadata.get("render_modes", []):
            raise EnvError(f"{env.spec.id if env.spec else env} cannot render rgb_array frames; drop --render-frames")
        if env.render_mode != "rgb_array":
            raise EnvError(f"rendered frames need an env made with render_mode='rgb_array', got {env.render_mode!r}")
        if size < 8:
            raise EnvError(f"--render-frames takes a frame size of at least 8 pixels, got {size}")
        self.size = size
        self.observation_space = spaces.Box(0, 255, (size, size, 3), np.uint8)  # rgb_array frames are (H, W, 3)

    def observation(self, observation: object) -> np.ndarray:
        return _resize(_as_hwc(self.env.render()), self.size)


class ChannelFirst(gym.ObservationWrapper):
    """Image observations in any layout `image_layout` reads -> (C, H, W), so stacked frames join on channels."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.layout = image_layout(env.observation_space)
        self.observation_space = spaces.Box(0, 255, channel_first_shape(env.observation_space), np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return to_channel_first(observation, self.layout)


class StackedChannels(gym.ObservationWrapper):
    """(k, C, H, W) stacks of channel-first frames -> (k*C, H, W), one channel-first image."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        k, channels, height, width = env.observation_space.shape
        self.observation_space = spaces.Box(0, 255, (k * channels, height, width), np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation.reshape(self.observation_space.shape)


def pixel_wrappers(env: gym.Env, frame_skip: int = 1, grayscale: bool = False, frame_stack: int = 1) -> gym.Env:
    """`env` with its actions repeated, its RGB frames greyed and its last observations stacked, as asked.
    Image frames (by `image_layout`, any layout) stack into one channel-first image; other observations
    into one flat vector."""
    space = env.observation_space  # the action repeat keeps it
    if frame_skip > 1:
        env = MaxAndSkipObservation(env, skip=frame_skip)
    if grayscale:
        if not (image_layout(space) == "HWC" and space.shape[-1] == 3):
            raise EnvError(f"--grayscale needs RGB image observations (H, W, 3) of uint8 0-255, but the env's are "
                           f"{space}; drop --grayscale")
        env = GrayscaleObservation(env, keep_dim=False)
    if frame_stack > 1:
        if not isinstance(env.observation_space, spaces.Box):
            raise EnvError(f"--frame-stack needs Box observations, got {env.observation_space}; drop --frame-stack")
        if not is_image_space(env.observation_space):
            return FlattenObservation(FrameStackObservation(env, frame_stack))
        frame = channel_first_shape(env.observation_space)
        env = StackedChannels(FrameStackObservation(ChannelFirst(env), frame_stack))
        if image_layout(env.observation_space) != "CHW":  # the pipeline would read another axis as channels
            raise EnvError(f"--frame-stack {frame_stack} of {frame} frames gives {env.observation_space.shape[0]} "
                           f"channels, not fewer than each side of a frame, so the channel axis cannot be told; "
                           f"stack fewer frames")
    return env


class FrameObservation(gym.ObservationWrapper):
    """Image observations in any layout `image_layout` reads become channel-first frames (C, size, size),
    optionally grey; size 0 keeps theirs: the world model's frames. Envs without pixel observations come here
    as RenderedFrames."""

    def __init__(self, env: gym.Env, size: int, grayscale: bool) -> None:
        super().__init__(env)
        self.size, self.grayscale = size, grayscale
        self.layout = image_layout(env.observation_space)
        channels, height, width = channel_first_shape(env.observation_space)
        channels = 1 if grayscale else channels
        self.observation_space = gym.spaces.Box(0, 255, (channels, size or height, size or width), np.uint8)

    def observation(self, observation: Any) -> np.ndarray:
        image = to_channel_first(observation, self.layout).transpose(1, 2, 0)  # (H, W, C)
        if self.size:
            image = _resize(image, self.size)
        if self.grayscale and image.shape[-1] > 1:
            image = image.mean(axis=-1, keepdims=True).round().astype(np.uint8)
        return np.ascontiguousarray(image.transpose(2, 0, 1))  # (C, H, W)
