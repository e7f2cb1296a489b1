"""Every wrapper in gymforge's stacks keeps Gymnasium's `terminated` and `truncated` apart.

A scripted env says exactly which step terminates and which truncates; each wrapper must pass both on
unchanged (EpisodicLife may only add `terminated`, on a lost life).
"""

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
from gymforge.envs import EpisodicLife, FireReset, NormalizeObservation, NormalizeReward
from gymnasium import spaces
from gymnasium.vector import SyncVectorEnv
from gymnasium.wrappers import ClipReward, FrameStackObservation, RecordEpisodeStatistics


class ScriptedEnv(gym.Env):
    """Steps return the (terminated, truncated) pair scripted for them; lives drop on given steps, as in ALE."""

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(self, flags, life_losses=(), lives=3):
        self.observation_space = spaces.Box(-100.0, 100.0, shape=(3,), dtype=np.float32)
        self.action_space = spaces.Discrete(4)
        self.flags, self.life_losses, self.start_lives = dict(flags), set(life_losses), lives
        self.ale = SimpleNamespace(lives=lambda: self.lives)
        self.t, self.lives, self.resets, self.actions = 0, lives, 0, []

    def get_action_meanings(self):
        return ["NOOP", "FIRE", "RIGHT", "LEFT"]

    def _observation(self):
        return np.full(3, self.t, dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.lives, self.resets = 0, self.start_lives, self.resets + 1
        return self._observation(), {}

    def step(self, action):
        self.t += 1
        self.actions.append(int(action))
        if self.t in self.life_losses:
            self.lives -= 1
        terminated, truncated = self.flags.get(self.t, (False, False))
        return self._observation(), 5.0 * (self.t % 3 - 1), terminated, truncated, {}


SCRIPT = {3: (False, True), 5: (True, False), 7: (True, True)}


def _flags(env, steps):
    env.reset(seed=0)
    return [tuple(bool(flag) for flag in env.step(0)[2:4]) for _ in range(steps)]


def _expected(steps, script=SCRIPT):
    return [script.get(t, (False, False)) for t in range(1, steps + 1)]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda env: ClipReward(env, -1.0, 1.0),
        lambda env: FrameStackObservation(env, 4),
        RecordEpisodeStatistics,
    ],
    ids=["ClipReward", "FrameStackObservation", "RecordEpisodeStatistics"],
)
def test_gymnasium_wrappers_in_our_stacks_pass_flags_through(wrap):
    assert _flags(wrap(ScriptedEnv(SCRIPT)), 7) == _expected(7)


def test_episodic_life_marks_a_lost_life_terminated_only():
    inner = ScriptedEnv({6: (False, True)}, life_losses={2})
    env = EpisodicLife(inner)
    env.reset(seed=0)
    assert [tuple(env.step(0)[2:4]) for _ in range(2)] == [(False, False), (True, False)]
    env.reset()  # a lost life: the game goes on with a no-op step, no real reset
    assert inner.resets == 1 and inner.t == 3
    flags = [tuple(env.step(0)[2:4]) for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]  # a time limit stays a truncation
    env.reset()
    assert inner.resets == 2  # after a truncation, a real reset


def test_episodic_life_passes_game_over_and_both_flags():
    env = EpisodicLife(ScriptedEnv(SCRIPT))
    assert _flags(env, 3) == _expected(3)
    env = EpisodicLife(ScriptedEnv({2: (True, True)}, life_losses={2}))
    assert _flags(env, 2) == [(False, False), (True, True)]


def test_fire_reset_presses_fire_and_passes_flags():
    inner = ScriptedEnv({4: (False, True), 6: (True, False)})
    env = FireReset(inner)
    env.reset(seed=0)
    assert inner.actions == [1, 2]  # FIRE, then a move
    assert [tuple(env.step(0)[2:4]) for _ in range(4)] == [(False, False), (False, True), (False, False), (True, False)]


@pytest.mark.parametrize("normalizer", [NormalizeObservation, NormalizeReward])
def test_vector_normalizers_pass_flags_through(normalizer):
    scripts = [SCRIPT, {2: (True, False), 4: (False, True)}]
    vec_env = normalizer(SyncVectorEnv([lambda script=script: ScriptedEnv(script) for script in scripts]))
    vec_env.reset(seed=0)
    terminated_seen, truncated_seen = [], []
    for _ in range(5):
        _, _, terminated, truncated, _ = vec_env.step(np.zeros(2, dtype=int))
        terminated_seen.append(terminated.tolist())
        truncated_seen.append(truncated.tolist())
    # Env 0: t=3 truncated, then NEXT_STEP autoreset at step 4, then t=1 at step 5. Env 1: t=2 terminated,
    # autoreset at step 3, t=1, t=2 terminated again at step 5.
    assert terminated_seen == [[False, False], [False, True], [False, False], [False, False], [False, True]]
    assert truncated_seen == [[False, False], [False, False], [True, False], [False, False], [False, False]]
