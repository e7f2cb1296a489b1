"""Environments for gymforge: making single and vector envs, wrapper stacks, gymforge's own games, frame data.

Importing `envs` registers the gymforge environments (`gymforge/Catch-v0`, ...) with Gymnasium.
"""

from gymforge.envs.atari import EpisodicLife, FireReset, atari_wrappers, make_atari_env
from gymforge.envs.cartpole_no_velocity import CartPoleNoVelocityEnv
from gymforge.envs.catch import CatchEnv
from gymforge.envs.discretize import DiscretizeObservation
from gymforge.envs.errors import EnvError
from gymforge.envs.frames import FrameDataset, collect_frames, frames_metadata, load_frames, save_frames
from gymforge.envs.grid_image import grid_image
from gymforge.envs.gridworld import LAYOUTS, GridWorldEnv
from gymforge.envs.make import is_atari, make_env, make_vec_env, resolve_env_id
from gymforge.envs.normalize import (
    NormalizeObservation,
    NormalizeReward,
    RunningMeanStd,
    load_normalization_state,
    normalization_state,
    observation_standardizer,
)
from gymforge.envs.pixels import FrameObservation, RenderedFrames, StackedChannels, pixel_wrappers
from gymforge.envs.registration import ENV_IDS, register_envs
from gymforge.envs.tmaze import TMazeEnv
from gymforge.envs.video import gif_bytes, record_episode, save_video

__all__ = [
    "ENV_IDS",
    "LAYOUTS",
    "CartPoleNoVelocityEnv",
    "CatchEnv",
    "DiscretizeObservation",
    "EnvError",
    "EpisodicLife",
    "FireReset",
    "FrameDataset",
    "FrameObservation",
    "GridWorldEnv",
    "NormalizeObservation",
    "NormalizeReward",
    "RenderedFrames",
    "RunningMeanStd",
    "StackedChannels",
    "TMazeEnv",
    "atari_wrappers",
    "collect_frames",
    "frames_metadata",
    "gif_bytes",
    "grid_image",
    "is_atari",
    "load_frames",
    "load_normalization_state",
    "make_atari_env",
    "make_env",
    "make_vec_env",
    "normalization_state",
    "observation_standardizer",
    "pixel_wrappers",
    "record_episode",
    "register_envs",
    "resolve_env_id",
    "save_frames",
    "save_video",
]

register_envs()
