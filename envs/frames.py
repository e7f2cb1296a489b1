"""Datasets of environment frames for the generative models: collect, save, load, and index them without torch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError
from gymforge.envs.make import make_env
from gymforge.envs.observations import image_layout, to_channel_first
from gymnasium import spaces
from PIL import Image
from tqdm import tqdm


def _as_hwc(observation: Any) -> np.ndarray:
    """An image observation as (H, W, C) uint8; its layout is read by the pipeline's one rule (image_layout)."""
    image = np.asarray(observation)
    layout = image_layout(spaces.Box(0, 255, image.shape, np.uint8))
    if layout is None:
        raise EnvError(f"This observation of shape {image.shape} is not an image; collect with source='render'.")
    image = to_channel_first(image, layout).transpose(1, 2, 0)
    if image.dtype != np.uint8:
        if image.min() < 0.0 or image.max() > 1.0:
            raise EnvError("Float image observations must lie in [0, 1]; collect with source='render' instead.")
        image = np.round(image * 255.0).astype(np.uint8)
    return image


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    """Resize (H, W, C) to (size, size, C): area averaging to shrink, nearest neighbour to keep pixel art crisp."""
    if image.shape[:2] == (size, size):
        return image
    shrink = size < min(image.shape[:2])
    resample = Image.Resampling.BOX if shrink else Image.Resampling.NEAREST
    channels = [np.asarray(Image.fromarray(image[:, :, c]).resize((size, size), resample)) for c in range(image.shape[2])]
    return np.stack(channels, axis=-1)


def collect_frames(
    env_id: str,
    frames: int,
    size: int = 64,
    policy: Callable[[Any], Any] | None = None,
    seed: int = 0,
    source: str = "render",
    progress: bool = True,
    env: gym.Env | None = None,
    make_policy: Callable[[], Callable[[Any], Any]] | None = None,
) -> np.ndarray:
    """Play `env_id` with `policy` (obs -> action; None = random) and return `frames` images as (N, size, size, C) uint8.

    `make_policy` (instead of `policy`) gives a fresh policy for every episode, so a recurrent agent's memory
    starts empty at each reset (pass a trained agent's `policy` method).

    `source="render"` keeps the `rgb_array` renderings (C = 3); `source="observation"` keeps image observations
    (e.g. Catch's (1, 10, 10) -> C = 1). Frames are resized to square `size` x `size`; episodes restart as needed.
    `env` replaces the one made from `env_id`, so a trained agent plays in the wrappers it was trained in
    (make it with render_mode="rgb_array" for source="render"); it is closed afterwards.
    """
    if frames <= 0:
        raise EnvError(f"The number of frames must be positive, got {frames}.")
    if size <= 0:
        raise EnvError(f"The frame size must be positive, got {size}.")
    if source not in ("render", "observation"):
        raise EnvError(f"source must be 'render' or 'observation', got {source!r}.")
    if policy is not None and make_policy is not None:
        raise EnvError("Give collect_frames a policy or a make_policy factory, not both.")
    if env is None:
        env = make_env(env_id, render_mode="rgb_array" if source == "render" else None)
    env.action_space.seed(seed)

    def frame_of(observation: Any) -> np.ndarray:
        return _resize(_as_hwc(env.render() if source == "render" else observation), size)

    try:
        observation, _ = env.reset(seed=seed)
        if make_policy is not None:
            policy = make_policy()
        first = frame_of(observation)
        collected = np.empty((frames, *first.shape), dtype=np.uint8)
        collected[0] = first
        with tqdm(total=frames, initial=1, desc=f"collecting {env_id}", unit="frame", disable=not progress) as bar:
            for index in range(1, frames):
                action = env.action_space.sample() if policy is None else policy(observation)
                observation, _, terminated, truncated, _ = env.step(action)
                collected[index] = frame_of(observation)  # an episode's final frame is kept
                if terminated or truncated:
                    observation, _ = env.reset()
                    if make_policy is not None:
                        policy = make_policy()  # a new episode: a recurrent policy forgets the last one
                bar.update(1)
    finally:
        env.close()
    return collected


def save_frames(path: str | Path, frames: np.ndarray, **meta: Any) -> Path:
    """Save (N, H, W, C) uint8 frames to a compressed `.npz` with JSON metadata (env id, size, ...)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.dtype != np.uint8:
        raise EnvError(f"Frames must be an (N, H, W, C) uint8 array, got {frames.dtype} of shape {frames.shape}.")
    try:
        meta_json = json.dumps(meta)
    except TypeError as error:
        raise EnvError(f"Frame metadata must be plain JSON values (str, int, float, lists): {error}.") from error
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, frames=frames, meta=np.array(meta_json))
    return path


def _open(path: str | Path) -> np.lib.npyio.NpzFile:
    path = Path(path)
    if not path.is_file():
        raise EnvError(f"No frame file at '{path}'; create one with `gymforge collect --env ID --frames N --out FILE`.")
    archive = np.load(path, allow_pickle=False)
    if "frames" not in archive.files:
        raise EnvError(f"'{path}' holds no 'frames' array; it was not written by save_frames.")
    return archive


def load_frames(path: str | Path) -> np.ndarray:
    """Read the (N, H, W, C) uint8 frames written by `save_frames`."""
    with _open(path) as archive:
        return archive["frames"]


def frames_metadata(path: str | Path) -> dict[str, Any]:
    """Read the metadata written by `save_frames` (empty when there is none)."""
    with _open(path) as archive:
        return json.loads(str(archive["meta"])) if "meta" in archive.files else {}


class FrameDataset:
    """Frames as float32 (C, H, W) arrays in [0, 1], indexable like a torch Dataset (a DataLoader can wrap it)."""

    def __init__(self, frames: np.ndarray | str | Path):
        self.frames = load_frames(frames) if isinstance(frames, (str, Path)) else np.asarray(frames)
        if self.frames.ndim != 4 or self.frames.dtype != np.uint8:
            raise EnvError(f"FrameDataset needs (N, H, W, C) uint8 frames, got {self.frames.dtype} {self.frames.shape}.")

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.frames[index].transpose(2, 0, 1).astype(np.float32) / 255.0

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one item, for building a model."""
        _, height, width, channels = self.frames.shape
        return channels, height, width
