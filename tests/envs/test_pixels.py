"""envs/pixels.py: action repeat, grey frames and frame stacks for non-Atari image envs, checked by hand."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymforge.envs import EnvError, RenderedFrames, make_env, pixel_wrappers
from gymforge.envs.observations import PrepareObservation, is_image_space
from gymnasium import spaces

from gymforge.app.cli import main
from tests.agents.conformance_envs import env_id

H, W = 12, 10  # larger than any channel count, as real images are


class CountingFrames(gym.Env):
    """Step t shows an RGB frame whose channel c holds 10*t + c and pays reward t; it ends after 10 steps."""

    observation_space = spaces.Box(0, 255, (H, W, 3), np.uint8)
    action_space = spaces.Discrete(2)

    def frame(self) -> np.ndarray:
        return np.broadcast_to(np.array([10 * self.t, 10 * self.t + 1, 10 * self.t + 2], np.uint8),
                               (H, W, 3)).copy()

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.frame(), {}

    def step(self, action):
        self.t += 1
        return self.frame(), float(self.t), self.t >= 10, False, {}


def test_a_skipped_frame_pays_its_reward_and_the_stack_holds_the_last_frames_greyed():
    env = pixel_wrappers(CountingFrames(), frame_skip=2, grayscale=True, frame_stack=3)
    first, _ = env.reset(seed=0)
    assert env.observation_space.shape == (3, H, W) and first.shape == (3, H, W)
    assert is_image_space(env.observation_space)  # the shared pipeline keeps it an image, channels first
    observation, reward, terminated, _, _ = env.step(0)
    assert reward == 1 + 2  # steps 1 and 2, summed
    grey = [float(frame[0, 0]) for frame in observation]
    # Stack: [padding, reset frame (t=0), max of frames t=1 and t=2 (t=2)]; grey of (10t, 10t+1, 10t+2) ~ 10t+1.
    assert grey[0] == 0 and abs(grey[1] - 1) <= 1 and abs(grey[2] - 21) <= 1
    for _ in range(4):
        _, reward, terminated, _, _ = env.step(0)
    assert terminated and reward == 9 + 10  # the episode ends on time, not a skip later


def test_a_stack_of_colour_frames_becomes_one_channel_first_image():
    env = pixel_wrappers(CountingFrames(), frame_stack=2)
    env.reset(seed=0)
    observation, *_ = env.step(0)
    assert env.observation_space.shape == (6, H, W) and observation.shape == (6, H, W)
    assert [int(plane[0, 0]) for plane in observation] == [0, 1, 2, 10, 11, 12]  # frame 0's RGB, then frame 1's
    assert PrepareObservation(env).observation_space.shape == (6, H, W)


def test_grayscale_refuses_observations_that_are_not_rgb_images():
    class Vector(CountingFrames):
        observation_space = spaces.Box(-1, 1, (4,), np.float32)

    with pytest.raises(EnvError, match="--grayscale needs RGB image observations"):
        pixel_wrappers(Vector(), grayscale=True)


def test_ppo_trains_evaluates_and_watches_with_skipped_greyed_stacked_frames(tmp_path, capsys):
    run = tmp_path / "pixels"
    assert main(["train", "ppo", "--env", env_id("ChannelLastImage"), "--frame-skip", "2", "--grayscale",
                 "--frame-stack", "2", "--n-envs", "2", "--n-steps", "16", "--batch-size", "16", "--n-epochs", "1",
                 "--steps", "64", "--eval-every", "32", "--eval-episodes", "2", "--preset", "none",
                 "--logdir", str(tmp_path), "--name", "pixels"]) == 0
    assert main(["evaluate", str(run), "--episodes", "2"]) == 0
    assert main(["watch", str(run), "--episodes", "1", "--record", str(tmp_path / "pixels.gif")]) == 0
    capsys.readouterr()
    assert main(["train", "ppo", "--env", "CartPole-v1", "--grayscale", "--steps", "64", "--preset", "none",
                 "--logdir", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--grayscale" in error


def test_rendered_frames_are_the_envs_render_resized():
    env = make_env("CartPole-v1", render_mode="rgb_array")
    frames = RenderedFrames(env, size=32)
    observation, _ = frames.reset(seed=3)
    assert observation.shape == (32, 32, 3) and observation.dtype == np.uint8
    assert frames.observation_space.contains(observation)
    full = env.render()  # the frame the env shows now, shrunk by area averaging to 32x32
    assert full.shape == (400, 600, 3)
    from gymforge.envs.frames import _resize

    np.testing.assert_array_equal(observation, _resize(full, 32))
    for _ in range(5):
        moved, *_ = frames.step(0)
    assert not np.array_equal(moved, observation)  # the cart and pole move in the picture


def test_rendered_frames_leave_the_envs_seeded_episode_stream_alone():
    plain, wrapped = (make_env("CartPole-v1", seed=5, render_mode="rgb_array") for _ in range(2))
    frames = RenderedFrames(wrapped, size=16)
    plain.reset()
    frames.reset()  # the next episode of seed 5's stream, not a reseeded one
    np.testing.assert_array_equal(plain.unwrapped.state, frames.unwrapped.state)


def test_rendered_frames_refuse_an_env_that_does_not_render_rgb_arrays():
    with pytest.raises(EnvError, match="render_mode='rgb_array'"):
        RenderedFrames(make_env("CartPole-v1"), size=32)

    class Silent(CountingFrames):
        metadata = {"render_modes": []}

    with pytest.raises(EnvError, match="cannot render rgb_array frames"):
        RenderedFrames(Silent(), size=32)


def test_ppo_trains_and_watches_cartpole_from_its_rendered_frames(tmp_path, capsys):
    run = tmp_path / "rendered"
    assert main(["train", "ppo", "--env", "CartPole-v1", "--render-frames", "24", "--grayscale", "--frame-stack",
                 "2", "--n-envs", "2", "--n-steps", "16", "--batch-size", "16", "--n-epochs", "1", "--steps", "64",
                 "--eval-every", "32", "--eval-episodes", "2", "--preset", "none", "--logdir", str(tmp_path),
                 "--name", "rendered"]) == 0
    assert main(["watch", str(run), "--episodes", "1", "--record", str(tmp_path / "rendered.gif")]) == 0
    assert (tmp_path / "rendered.gif").stat().st_size > 0
    capsys.readouterr()
    assert main(["train", "ppo", "--env", "CartPole-v1", "--render-frames", "4", "--steps", "64", "--preset",
                 "none", "--logdir", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--render-frames" in error


def test_a_stack_with_more_channels_than_a_side_is_refused_and_a_vector_stack_stays_a_vector():
    with pytest.raises(EnvError, match="gives 12 channels.*stack fewer frames"):
        pixel_wrappers(CountingFrames(), frame_stack=4)  # 4 RGB frames of 12x10: 12 channels, no longer the smallest

    class Vector(CountingFrames):
        observation_space = spaces.Box(0, 255, (5,), np.uint8)  # RAM-like bytes, not pixels

    assert pixel_wrappers(Vector(), frame_stack=3).observation_space.shape == (15,)  # not a (3, 5) "grey image"
