"""Every option that yields image frames reaches a CNN, odd layouts do not crash it, and observation
normalization never runs on pixels (issue 32, findings 2, 3 and 6)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymforge.agents.dqn import DQN, DQNConfig
from gymforge.agents.ppo import PPO, PPOConfig
from gymforge.envs import EnvError
from gymforge.networks import MLP, NatureCNN, SmallCNN
from gymnasium import spaces

from gymforge.app.cli import main

TINY = {"n_envs": 2, "n_steps": 8, "batch_size": 16, "n_epochs": 1, "eval_episodes": 1}


class ShapedImages(gym.Env):
    """Random uint8 observations of a given shape and bounds (stand-ins for CarRacing's (96, 96, 3) and odd
    layouts); 8 steps an episode."""

    metadata = {"render_modes": []}

    def __init__(self, shape=(96, 96, 3), high=255, render_mode=None):
        self.observation_space = spaces.Box(0, high, tuple(shape), np.uint8)
        self.action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        return self.observation_space.sample(), 0.0, False, self.t >= 8, {}


for _name, _shape, _high in [("CarLike", (96, 96, 3), 255), ("TiedAxes", (3, 64, 3), 255),
                             ("TwoChannels", (4, 84, 2), 255), ("Binary", (8, 8, 3), 1)]:
    if f"images-test/{_name}-v0" not in gym.registry:
        gym.register(f"images-test/{_name}-v0", entry_point=ShapedImages, kwargs={"shape": _shape, "high": _high},
                     max_episode_steps=8)


def encoder_of(learner):
    return learner.model.actor_trunk.encoder if isinstance(learner, PPO) else learner.online.encoder


@pytest.mark.parametrize("env, options, cnn, frames", [
    ("images-test/CarLike-v0", {"grayscale": True}, NatureCNN, (1, 96, 96)),  # (96, 96) grey frames
    ("images-test/CarLike-v0", {"grayscale": True, "frame_stack": 4}, NatureCNN, (4, 96, 96)),
    ("CartPole-v1", {"render_frames": 32, "grayscale": True}, SmallCNN, (1, 32, 32)),
    ("gymforge/Catch-v0", {"frame_stack": 4}, SmallCNN, (4, 10, 10)),  # four (1, 10, 10) frames
])
def test_pixel_options_give_a_cnn_not_an_mlp_on_raw_pixels(env, options, cnn, frames):
    learner = PPO(PPOConfig(env=env, **TINY, **options))
    try:
        encoder = encoder_of(learner)
        assert isinstance(encoder, cnn) and encoder.convs.input_shape == frames
        assert learner.envs.single_observation_space.shape == frames
        assert np.isfinite(learner.train_step()["train/value_loss"])
    finally:
        learner.close()


def test_a_catch_stack_holds_the_last_four_screens_in_order():
    learner = PPO(PPOConfig(env="gymforge/Catch-v0", frame_stack=4, **TINY))
    try:
        env = learner.make_env()
        first, _ = env.reset(seed=0)
        assert first.shape == (4, 10, 10) and (first == first[3]).all()  # padded with copies of the reset screen
        second, *_ = env.step(1)
        np.testing.assert_array_equal(second[2], first[3])  # each step pushes the oldest screen out
        assert second[3].sum() == 2 * 255  # the newest screen: the ball and the paddle
    finally:
        learner.close()


@pytest.mark.parametrize("env, kind, size", [
    ("images-test/TwoChannels-v0", SmallCNN, (2, 4, 84)),  # (4, 84, 2): channels last, a 4-pixel side
    ("images-test/TiedAxes-v0", MLP, (3 * 64 * 3,)),  # (3, 64, 3): no channel axis can be told, a vector
    ("images-test/Binary-v0", MLP, (8 * 8 * 3,)),  # uint8 0-1 is a binary vector, not pixels divided by 255
])
@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_odd_layouts_reach_an_encoder_that_fits_them(algo, env, kind, size):
    learner = PPO(PPOConfig(env=env, **TINY)) if algo == "ppo" else DQN(DQNConfig(
        env=env, learning_starts=8, batch_size=8, buffer_size=64, log_every=16, eval_episodes=1))
    try:
        encoder = encoder_of(learner)
        assert isinstance(encoder, kind)
        assert learner.envs.single_observation_space.shape == size
        if kind is SmallCNN:
            assert encoder.convs.input_shape == size
        learner.train_step()
    finally:
        learner.close()


def test_observation_normalization_is_refused_on_images_in_one_line(tmp_path, capsys):
    with pytest.raises(EnvError, match="drop --normalize-observation"):
        PPO(PPOConfig(env="gymforge/Catch-v0", normalize_observation=True, **TINY))
    assert main(["train", "ppo", "--env", "gymforge/Catch-v0", "--normalize-observation", "--steps", "64",
                 "--preset", "none", "--logdir", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "uint8 images (1, 10, 10)" in error
