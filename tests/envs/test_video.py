"""Recording episodes and writing their frames as GIF (on disk or as bytes for TensorBoard); MP4 needs the
video extra."""

import io
import sys

import gymnasium as gym
import pytest
from gymforge.envs import EnvError, gif_bytes, record_episode, save_video
from PIL import Image


def test_record_and_save_gif_and_gif_bytes_hold_every_frame(tmp_path):
    env = gym.make("gymforge/Catch-v0", render_mode="rgb_array")
    frames, episode_return = record_episode(env, seed=0)
    assert len(frames) == 10 and episode_return in (-1.0, 1.0)  # reset frame + 9 steps
    path = save_video(frames, tmp_path / "catch.gif", fps=10)
    with Image.open(path) as gif:
        assert gif.n_frames == 10 and gif.size == (320, 320) and gif.info["duration"] == 100
    assert path.read_bytes() == gif_bytes(frames, fps=10)
    with Image.open(io.BytesIO(gif_bytes(frames, fps=1000))) as gif:
        assert gif.info["duration"] == 20 and gif.info["loop"] == 0  # viewers play no faster than 20 ms a frame


def test_recording_needs_rgb_array():
    with pytest.raises(EnvError, match="render_mode='rgb_array'"):
        record_episode(gym.make("gymforge/Catch-v0"))


def test_no_frames_or_a_bad_fps_is_refused(tmp_path):
    with pytest.raises(EnvError, match="no frames"):
        gif_bytes([])
    frames, _ = record_episode(gym.make("gymforge/Catch-v0", render_mode="rgb_array"), seed=0)
    with pytest.raises(EnvError, match="fps must be positive"):
        save_video(frames, tmp_path / "catch.gif", fps=0)


def test_mp4_without_the_video_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    frames, _ = record_episode(gym.make("gymforge/Catch-v0", render_mode="rgb_array"), seed=0)
    with pytest.raises(EnvError, match=r"pip install 'gymforge\[video\]'"):
        save_video(frames, tmp_path / "catch.mp4")
    with pytest.raises(EnvError, match="as .gif or .mp4"):
        save_video(frames, tmp_path / "catch.avi")


def test_recording_every_kth_step_keeps_the_first_and_last_frames():
    env = gym.make("gymforge/Catch-v0", render_mode="rgb_array")
    every_step, _ = record_episode(env, seed=0)
    every_fourth, _ = record_episode(env, seed=0, every=4)
    # Catch's 9 steps: the reset frame, steps 4 and 8, and the final step 9
    assert len(every_fourth) == 4
    for kept, index in zip(every_fourth, [0, 4, 8, 9]):
        assert (kept == every_step[index]).all()
