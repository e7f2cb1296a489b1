"""The Atari stack on a real ALE game, for a few steps only (skipped without the atari extra)."""

import sys

import gymnasium as gym
import numpy as np
import pytest

from envs import EnvError, atari_wrappers, make_atari_env

pytest.importorskip("ale_py")


def _wrapper_names(env):
    names = []
    while hasattr(env, "env"):
        names.append(type(env).__name__)
        env = env.env
    return names


def test_missing_opencv_is_an_env_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(EnvError, match="pip install opencv-python-headless"):
        make_atari_env("ALE/Pong-v5")


@pytest.mark.parametrize("training", [True, False])
def test_pong_through_the_stack(training):
    pytest.importorskip("cv2")  # Gymnasium's AtariPreprocessing resizes with OpenCV
    env = make_atari_env("ALE/Pong-v5", seed=0, training=training)
    names = _wrapper_names(env)
    assert ("EpisodicLife" in names) == training and ("ClipReward" in names) == training
    assert "FireReset" in names and "AtariPreprocessing" in names and names[0] == "FrameStackObservation"
    observation, _ = env.reset(seed=0)
    assert observation.shape == (4, 84, 84) and observation.dtype == np.uint8
    assert env.observation_space.shape == (4, 84, 84)
    for _ in range(20):
        observation, reward, _, truncated, _ = env.step(env.action_space.sample())
        assert observation.shape == (4, 84, 84) and not truncated
        assert not training or -1.0 <= reward <= 1.0
    env.close()


def test_same_seed_same_pong_frames():
    pytest.importorskip("cv2")

    def frames(seed):
        env = make_atari_env("ALE/Pong-v5", seed=seed, training=False)
        observation, _ = env.reset(seed=seed)
        stacked = [observation]
        for action in [0, 2, 3, 2, 2, 3, 0, 1] * 2:
            stacked.append(env.step(action)[0])
        env.close()
        return np.stack(stacked)

    np.testing.assert_array_equal(frames(1), frames(1))


def test_not_an_atari_game():
    with pytest.raises(EnvError, match="'CartPole-v1' is not an Atari game"):
        make_atari_env("CartPole-v1")
    with pytest.raises(EnvError, match="need an ALE game"):
        atari_wrappers(gym.make("CartPole-v1"), training=True)
