"""Environments for gymforge: making single and vector envs, wrapper stacks, gymforge's own games, frame data.

Importing `envs` registers the gymforge environments (`gymforge/Catch-v0`, ...) with Gymnasium.
"""

from envs.cartpole_no_velocity import CartPoleNoVelocityEnv
from envs.catch import CatchEnv
from envs.errors import EnvError
from envs.grid_image import grid_image
from envs.gridworld import LAYOUTS, GridWorldEnv
from envs.make import make_env, make_vec_env, resolve_env_id
from envs.registration import ENV_IDS, register_envs
from envs.tmaze import TMazeEnv

__all__ = [
    "ENV_IDS",
    "LAYOUTS",
    "CartPoleNoVelocityEnv",
    "CatchEnv",
    "EnvError",
    "GridWorldEnv",
    "TMazeEnv",
    "grid_image",
    "make_env",
    "make_vec_env",
    "register_envs",
    "resolve_env_id",
]

register_envs()
