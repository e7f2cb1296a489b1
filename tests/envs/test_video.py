"""Writing rendered frames as GIF (on disk or as bytes for TensorBoard); MP4 needs the video extra."""

import io
import sys

import gymnasium as gym
import pytest
from PIL import Image

from envs import EnvError, gif_bytes, save_video


def catch_frames():
    """A reset frame and the 9 steps of one Catch episode with random actions."""
    env = gym.make("gymforge/Catch-v0", render_mode="rgb_array")
    env.reset(seed=0)
    env.action_space.seed(0)
    frames, done = [env.render()], False
    while not done:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        frames.append(env.render())
        done = terminated or truncated
    return frames


def test_save_gif_and_gif_bytes_hold_every_frame(tmp_path):
    frames = catch_frames()
    assert len(frames) == 10
    path = save_video(frames, tmp_path / "catch.gif", fps=10)
    with Image.open(path) as gif:
        assert gif.n_frames == 10 and gif.size == (320, 320) and gif.info["duration"] == 100
    assert path.read_bytes() == gif_bytes(frames, fps=10)
    with Image.open(io.BytesIO(gif_bytes(frames, fps=1000))) as gif:
        assert gif.info["duration"] == 20 and gif.info["loop"] == 0  # viewers play no faster than 20 ms a frame


def test_no_frames_or_a_bad_fps_is_refused(tmp_path):
    with pytest.raises(EnvError, match="no frames"):
        gif_bytes([])
    with pytest.raises(EnvError, match="fps must be positive"):
        save_video(catch_frames(), tmp_path / "catch.gif", fps=0)


def test_mp4_without_the_video_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    frames = catch_frames()
    with pytest.raises(EnvError, match=r"pip install 'gymforge\[video\]'"):
        save_video(frames, tmp_path / "catch.mp4")
    with pytest.raises(EnvError, match="as .gif or .mp4"):
        save_video(frames, tmp_path / "catch.avi")
