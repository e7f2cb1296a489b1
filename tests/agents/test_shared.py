import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.encoders import make_encoder
from agents.episodes import finished_episodes, play_episodes
from envs import make_vec_env
from gymforge.errors import ConfigError


@pytest.mark.parametrize("shape, dtype, expected", [((4,), np.float32, "MLP"), ((1, 10, 10), np.uint8, "SmallCNN"),
                                                     ((4, 84, 84), np.uint8, "NatureCNN")])
def test_make_encoder_picks_the_network_the_space_calls_for(shape, dtype, expected):
    space = gym.spaces.Box(0, 255, shape, dtype)
    encoder, features = make_encoder(space)
    assert type(encoder).__name__ == expected
    assert encoder(torch.as_tensor(np.stack([space.sample(), space.sample()]))).shape == (2, features)


def test_make_encoder_refuses_discrete_observations():
    with pytest.raises(ConfigError, match="qlearning"):
        make_encoder(gym.spaces.Discrete(5))


def test_finished_episodes_match_single_env_play():
    envs = make_vec_env("CartPole-v1", 2, seed=0)
    envs.action_space.seed(0)
    seen = []
    for _ in range(200):
        *_, infos = envs.step(envs.action_space.sample())
        seen += finished_episodes(infos)
    assert seen and all(length == ret for ret, length in seen)  # CartPole pays 1 per step


def test_play_episodes_cuts_endless_episodes():
    env = gym.make("CliffWalking-v1")
    result = play_episodes(env, lambda: (lambda observation: 0), episodes=2, seed=0, max_steps=50)  # walks into the wall
    assert result.lengths == [50, 50] and result.returns == [-50.0, -50.0]
