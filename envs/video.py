"""Record rendered episodes and write them as GIF (Pillow) or MP4 (imageio, the `video` extra), or as GIF
bytes for TensorBoard (the one GIF encoder: save_video and Logger.video both use gif_bytes).

Gymnasium's RecordVideo writes with MoviePy, which gymforge does not depend on; the frames it would record
are the same `env.render()` images gathered here, so the trainer can also send them to TensorBoard.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymforge.envs.errors import EnvError


def record_episode(
    env: gym.Env, policy: Callable[[Any], Any] | None = None, seed: int | None = None, max_steps: int = 10_000,
    every: int = 1,
) -> tuple[list[np.ndarray], float]:
    """Play one episode with `policy` (obs -> action; None = random) and return its frames and its return.

    `env` must have been made with `render_mode="rgb_array"`. every=k renders only every k-th step (and the last):
    rendering costs more than stepping most envs, so a preview at k times the speed is k times cheaper.
    """
    if env.render_mode != "rgb_array":
        raise EnvError(f"Recording needs an env made with render_mode='rgb_array', got {env.render_mode!r}.")
    observation, _ = env.reset(seed=seed)
    if seed is not None:
        env.action_space.seed(seed)
    frames, episode_return = [env.render()], 0.0
    for step in range(1, max_steps + 1):
        action = env.action_space.sample() if policy is None else policy(observation)
        observation, reward, terminated, truncated, _ = env.step(action)
        episode_return += float(reward)
        if step % every == 0 or terminated or truncated or step == max_steps:
            frames.append(env.render())
        if terminated or truncated:
            break
    return frames, episode_return


def check_frames(frames: Sequence[np.ndarray], fps: float) -> None:
    if len(frames) == 0:
        raise EnvError("There are no frames to save; record at least one step first.")
    if fps <= 0:
        raise EnvError(f"fps must be positive, got {fps}.")


def gif_bytes(frames: Sequence[np.ndarray], fps: float = 30) -> bytes:
    """(H, W, 3) uint8 frames as an animated GIF that loops: what save_video writes and TensorBoard plays."""
    check_frames(frames, fps)
    from PIL import Image

    images = [Image.fromarray(np.asarray(frame, dtype=np.uint8)) for frame in frames]
    buffer = io.BytesIO()
    # GIF delays count hundredths of a second and viewers slow anything under 20 ms down to 100 ms
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(round(1000 / fps), 20), loop=0)
    return buffer.getvalue()


def save_video(frames: Sequence[np.ndarray], path: str | Path, fps: int = 30) -> Path:
    """Write (H, W, 3) uint8 frames to `path`: `.gif` with Pillow, `.mp4` with imageio[ffmpeg]."""
    path = Path(path)
    check_frames(frames, fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        path.write_bytes(gif_bytes(frames, fps))
    elif suffix == ".mp4":
        try:
            import imageio.v2 as imageio
            import imageio_ffmpeg  # noqa: F401  (the MP4 backend; imageio alone cannot write MP4)
        except ImportError as error:
            raise EnvError("Writing MP4 needs imageio with its ffmpeg backend: run `pip install 'gymforge[video]'`, or save a .gif.") from error
        # macro_block_size=1 keeps odd frame sizes as they are instead of resizing with a warning.
        imageio.mimwrite(path, [np.asarray(frame, dtype=np.uint8) for frame in frames], fps=fps, macro_block_size=1)
    else:
        raise EnvError(f"Videos are saved as .gif or .mp4, got '{path.name}'; change the file name's extension.")
    return path
