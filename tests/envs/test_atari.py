"""The Atari stack on a real ALE game, for a few steps only (skipped without the atari extra)."""

import sys

import gymnasium as gym
import numpy as np
import pytest
from gymforge.envs import EnvError, atari_wrappers, make_atari_env, make_env

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


def test_training_clips_rewards_and_evaluation_keeps_raw_scores():
    """Pong's own rewards are already in [-1, 1] (and mostly 0), so scale them first: every step pays >= 12."""
    pytest.importorskip("cv2")

    def rewards(training):
        inner = gym.wrappers.TransformReward(make_env("ALE/Pong-v5", frameskip=1), lambda r: 3.0 + 5.0 * r)
        env = atari_wrappers(inner, training=training)
        env.reset(seed=0)
        seen = [env.step(0)[1] for _ in range(10)]
        env.close()
        return np.array(seen)

    assert np.all(rewards(True) == 1.0)
    assert np.all(rewards(False) >= 12.0 - 5.0 * 4)  # 4 frames of 3 + 5 r, r >= -1 in a frame
    assert rewards(False).max() >= 12.0


def test_breakout_evaluation_game_of_a_never_fire_policy_ends_at_game_over():
    """Regression: without FIRE after a lost life the ball never came back, and an evaluation episode ran to
    the 10,000-step cap with return 0. Now the game ends when the lives run out, never at a cap."""
    pytest.importorskip("cv2")
    from gymforge.agents.episodes import play_episodes, step_cap

    env = make_atari_env("ALE/Breakout-v5", training=False)
    assert step_cap(env) is None  # the ALE's own 108k-frame limit, never a shorter one
    result = play_episodes(env, lambda: (lambda observation: 0), episodes=1, seed=0)  # NOOP forever
    assert env.unwrapped.ale.lives() == 0 and env.unwrapped.ale.game_over()
    assert result.lengths[0] < 2_000  # five lost balls, not 27,000 steps to the truncation
    env.close()
