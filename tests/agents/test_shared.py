import gymnasium as gym
import numpy as np
import pytest
import torch
from gymforge.agents.encoders import make_encoder
from gymforge.agents.episodes import finished_episodes, play_episodes
from gymforge.envs import make_env, make_vec_env

from gymforge.engine.errors import ConfigError


@pytest.mark.parametrize("shape, dtype, expected", [((4,), np.float32, "MLP"), ((1, 10, 10), np.uint8, "SmallCNN"),
                                                     ((4, 84, 84), np.uint8, "NatureCNN")])
def test_make_encoder_picks_the_network_the_space_calls_for(shape, dtype, expected):
    space = gym.spaces.Box(0, 255, shape, dtype)
    encoder, features = make_encoder(space)
    assert type(encoder).__name__ == expected
    assert encoder(torch.as_tensor(np.stack([space.sample(), space.sample()]))).shape == (2, features)


@pytest.mark.parametrize("space", [gym.spaces.Box(-1, 1, (4,), np.float32),
                                   gym.spaces.Dict({"image": gym.spaces.Box(0, 255, (1, 10, 10), np.uint8),
                                                    "vector": gym.spaces.Box(-1, 1, (3,), np.float32)})])
def test_the_mlp_encoder_is_linear_then_activation_per_layer_and_nothing_more(space):
    """Finding 5: every PPO and DQN MLP ended Linear -> Tanh -> Tanh (the encoder added an output activation on
    top of its last hidden layer's own)."""
    encoder, features = make_encoder(space, hidden_sizes=(8, 6), activation="tanh")
    mlp = encoder.mlp if hasattr(encoder, "mlp") else encoder
    assert [type(layer).__name__ for layer in mlp] == ["Linear", "Tanh", "Linear", "Tanh"]
    assert features == 6


def test_make_encoder_refuses_discrete_observations():
    with pytest.raises(ConfigError, match="qlearning"):
        make_encoder(gym.spaces.Discrete(5))


def test_finished_episodes_match_single_env_play():
    """Each sub-env's finished episodes, replayed action by action in a single env seeded like it, end the same."""
    envs = make_vec_env("CartPole-v1", 2, seed=0)
    rng = np.random.default_rng(0)
    seen, actions, reset_step = {0: [], 1: []}, {0: [], 1: []}, np.zeros(2, dtype=bool)
    for _ in range(300):
        action = rng.integers(2, size=2)
        *_, terminated, truncated, infos = envs.step(action)
        for index in range(2):
            if not reset_step[index]:  # NEXT_STEP autoreset ignores the action after an episode's end
                actions[index].append(int(action[index]))
        ended = finished_episodes(infos)
        done = np.flatnonzero(terminated | truncated)
        for index, episode in zip(done, ended):
            seen[index].append(episode)
        reset_step = terminated | truncated
    for index in range(2):
        env = make_env("CartPole-v1", seed=index)  # sub-env i is seeded seed + i
        replayed, total, length = [], 0.0, 0
        for action in actions[index]:
            _, reward, terminated, truncated, _ = env.step(action)
            total, length = total + reward, length + 1
            if terminated or truncated:
                replayed.append((total, length))
                env.reset()
                total, length = 0.0, 0
        assert len(seen[index]) >= 5 and seen[index] == replayed


def test_play_episodes_cuts_endless_episodes():
    env = gym.make("CliffWalking-v1")
    result = play_episodes(env, lambda: (lambda observation: 0), episodes=2, seed=0, max_steps=50)  # walks into the wall
    assert result.lengths == [50, 50] and result.returns == [-50.0, -50.0]
