"""Build single and vector environments from any registered id, with clear errors for the usual mistakes.

Vector environments are Gymnasium's own (`SyncVectorEnv`/`AsyncVectorEnv`) in their default NEXT_STEP
autoreset mode: at the step where `terminated | truncated` is true for a sub-environment, the returned
observation is that episode's final observation; the *next* `step()` ignores the action for that
sub-environment, resets it and returns the first observation of the new episode with reward 0 and
`terminated = truncated = False`. Agents that collect rollouts must skip that reset transition.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError
from gymforge.envs.observations import MASK_KEY, ActionMaskInObservation
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv, VectorEnv

Wrapper = Callable[[gym.Env], gym.Env]

_ATARI_HINT = "pip install 'gymforge[atari]'"
_BOX2D_HINT = "pip install 'gymforge[box2d]'"


def _looks_like_atari(env_id: str) -> bool:
    return env_id.startswith("ALE/") or "NoFrameskip" in env_id


def _import_extra(module: str, env_id: str, hint: str) -> Any:
    """Import an optional dependency, turning its absence into an EnvError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise EnvError(f"'{env_id}' needs the '{module}' package, which is not installed: run `{hint}`.") from error


def _find_spec(env_id: str) -> gym.envs.registration.EnvSpec | None:
    try:
        return gym.spec(env_id)
    except gym.error.DeprecatedEnv as error:  # Gymnasium's message names the version to use instead
        raise EnvError(str(error)) from error
    except gym.error.Error:
        return None


def _register_ale_if_installed() -> bool:
    """Register ale-py's games if it is installed and not yet registered; True when that added ids."""
    if "ALE/Pong-v5" in gym.registry:
        return False
    try:
        import ale_py
    except ImportError:
        return False
    gym.register_envs(ale_py)
    return True


def resolve_env_id(env_id: str) -> str:
    """Return the registered id for `env_id`, importing what it needs ("module:EnvId", ALE games) first."""
    if not isinstance(env_id, str) or not env_id:
        raise EnvError(f"The environment id must be a non-empty string like 'CartPole-v1', got {env_id!r}.")
    if ":" in env_id:
        module, env_id = env_id.split(":", 1)
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise EnvError(
                f"Could not import module '{module}' that should register '{env_id}' ({error}); install it first."
            ) from error
    if _looks_like_atari(env_id):
        ale_py = _import_extra("ale_py", env_id, _ATARI_HINT)  # cheap once imported
        if env_id not in gym.registry:
            gym.register_envs(ale_py)
    spec = _find_spec(env_id)
    if spec is None and _register_ale_if_installed():  # legacy Atari ids such as 'Pong-v4' or 'Breakout-v0'
        spec = _find_spec(env_id)
    if spec is None:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(repr(name) for name in close)}?" if close else (
            "check the spelling, or import the package that registers it with 'module:EnvId'."
        )
        raise EnvError(f"Unknown environment id '{env_id}': {hint}")
    entry_point = spec.entry_point if isinstance(spec.entry_point, str) else ""
    if entry_point.startswith("gymnasium.envs.box2d"):
        _import_extra("Box2D", env_id, _BOX2D_HINT)
    return spec.id


def is_atari(env_id: str) -> bool:
    """Whether an id (ALE/..., NoFrameskip, or a legacy id such as Pong-v4) is an ale-py game, which calls for
    the Atari wrapper stack."""
    entry_point = gym.spec(resolve_env_id(env_id)).entry_point
    return "ale_py" in str(entry_point)


def make_env(env_id: str, seed: int | None = None, render_mode: str | None = None, **kwargs: Any) -> gym.Env:
    """Make one environment that records episode statistics (`info["episode"]` when an episode ends).

    `seed` seeds the environment (through a first `reset(seed=seed)`) and its action and observation spaces,
    so the sequence of episodes that follows is reproducible; `kwargs` go to `gymnasium.make`.
    """
    env_id = resolve_env_id(env_id)
    try:
        env = gym.make(env_id, render_mode=render_mode, **kwargs)
    except gym.error.DependencyNotInstalled as error:
        message = " ".join(str(error).split())  # one line for the CLI
        raise EnvError(f"'{env_id}' needs a package that is not installed: {message}") from error
    except TypeError as error:
        if "unexpected keyword argument" not in str(error):
            raise
        raise EnvError(f"Bad keyword argument for '{env_id}' ({error}); check the environment's options.") from error
    # Innermost, so returns and lengths are those of the real game, before clipping or episodic life.
    env = gym.wrappers.RecordEpisodeStatistics(env)
    # A first reset (seeded when asked) also shows whether the env reports action masks in its info.
    _, info = env.reset(seed=seed)
    space = env.observation_space
    if MASK_KEY in info and not (isinstance(space, gym.spaces.Dict) and MASK_KEY in space.spaces):
        env = ActionMaskInObservation(env, int(np.asarray(info[MASK_KEY]).size))
    if seed is not None:
        env.action_space.seed(seed)
        env.observation_space.seed(seed)
    return env


def make_vec_env(
    env_id: str,
    n_envs: int,
    seed: int | None = None,
    vectorization: str = "sync",
    wrappers: Sequence[Wrapper] | None = None,
    **kwargs: Any,
) -> VectorEnv:
    """Make `n_envs` copies of `env_id` (each from `make_env`, then `wrappers` in order) in a Gymnasium vector env.

    `vectorization="sync"` steps them in this process, `"async"` in one process each. The autoreset mode is
    Gymnasium's default NEXT_STEP (see the module docstring). Sub-environment `i` is seeded with `seed + i`.
    """
    if n_envs < 1:
        raise EnvError(f"n_envs must be at least 1, got {n_envs}.")
    if vectorization not in ("sync", "async"):
        raise EnvError(f"vectorization must be 'sync' or 'async', got {vectorization!r}.")
    env_id = resolve_env_id(env_id)
    wrappers = tuple(wrappers or ())

    def make_one() -> gym.Env:
        env = make_env(env_id, **kwargs)
        for wrapper in wrappers:
            env = wrapper(env)
        return env

    env_fns = [make_one] * n_envs
    vec_env = SyncVectorEnv(env_fns) if vectorization == "sync" else AsyncVectorEnv(env_fns)
    if seed is not None:
        vec_env.reset(seed=seed)
        vec_env.action_space.seed(seed)
        vec_env.observation_space.seed(seed)
    return vec_env
