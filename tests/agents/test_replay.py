"""Replay buffers: hand-computed n-step returns, frame stacks across wraparound and episode ends, the sum tree."""

import numpy as np
import pytest
from gymforge.agents.replay import ReplayBuffer, SumTree


def scalar_buffer(capacity=50, n_step=1, gamma=0.5, **options):
    """Observations are one float, so each transition is easy to name."""
    return ReplayBuffer(capacity, (1,), np.float32, n_step=n_step, gamma=gamma, **options)


def play(buffer, observations, rewards, terminated_at_end):
    """One episode into stream 0: observations o0..oT, rewards r0..r(T-1); actions are the step index."""
    buffer.start(np.array([0]), np.array([[observations[0]]], dtype=np.float32))
    for t, reward in enumerate(rewards):
        last = t == len(rewards) - 1
        buffer.add(np.array([t]), np.array([reward], np.float32), np.array([last and terminated_at_end]),
                   np.array([[observations[t + 1]]], dtype=np.float32))


def all_transitions(buffer):
    indices = np.flatnonzero(buffer.valid.reshape(-1))
    return buffer.transitions(indices)


def by_action(sample):
    return {int(a): i for i, a in enumerate(sample.actions)}


def test_one_step_targets_stop_only_at_termination_and_truncation_keeps_the_final_observation():
    buffer = scalar_buffer()
    play(buffer, [10, 11, 12], [1.0, 2.0], terminated_at_end=True)
    play(buffer, [20, 21, 22], [3.0, 4.0], terminated_at_end=False)  # cut by a time limit
    sample = all_transitions(buffer)
    assert len(sample.actions) == 4 and len(buffer) == 4  # the final observations start no transition
    rows = sorted(zip(sample.observations[:, 0], sample.rewards, sample.next_observations[:, 0], sample.dones))
    assert rows == [(10, 1, 11, 0), (11, 2, 12, 1), (20, 3, 21, 0), (21, 4, 22, 0)]  # 22: the true final obs
    assert np.all(sample.discounts == 0.5)


def test_n_step_returns_by_hand():
    buffer = scalar_buffer(n_step=3, gamma=0.5)
    play(buffer, [0, 1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0], terminated_at_end=True)
    play(buffer, [5, 6, 7], [1.0, 1.0], terminated_at_end=False)  # truncated after 2 steps
    play(buffer, [8, 9], [1.0], terminated_at_end=False)  # an episode still going on: 9 is the newest frame
    sample = all_transitions(buffer)
    got = {(float(o), float(r), float(n), float(d), float(g)) for o, r, n, d, g in zip(
        sample.observations[:, 0], sample.rewards, sample.next_observations[:, 0], sample.dones, sample.discounts)}
    assert got == {
        (0, 1 + 0.5 * 2 + 0.25 * 3, 3, 0, 0.125),  # three rewards, then bootstrap from o3
        (1, 2 + 0.5 * 3 + 0.25 * 4, 4, 1, 0.125),  # terminated inside the window: no bootstrap
        (2, 3 + 0.5 * 4, 4, 1, 0.25),
        (3, 4, 4, 1, 0.5),
        (5, 1 + 0.5 * 1, 7, 0, 0.25),  # truncated: bootstraps from the true final observation o7 with gamma^2
        (6, 1, 7, 0, 0.5),
        (8, 1, 9, 0, 0.5),  # n shrinks to what exists so far
    }


def test_frame_stacks_stay_correct_across_wraparound_and_episode_boundaries():
    """Frames are numbered; every stored transition must rebuild exactly the stacks the env produced."""
    stack, capacity = 3, 11
    buffer = ReplayBuffer(capacity, (stack, 2, 2), np.uint8, frame_stack=stack, n_step=2, gamma=0.9)
    rng = np.random.default_rng(0)
    expected = {}
    frame_id, action_id = 0, 0

    def frame():
        nonlocal frame_id
        frame_id += 1
        return np.full((2, 2), frame_id % 256, dtype=np.uint8)

    for _ in range(12):  # episodes of 1..4 steps, far more frames than the buffer holds
        first = frame()
        observation = np.stack([first] * stack)  # FrameStackObservation pads with the reset frame
        buffer.start(np.array([0]), observation[None])
        length = int(rng.integers(1, 5))
        for t in range(length):
            next_observation = np.concatenate([observation[1:], frame()[None]])
            terminated = t == length - 1 and rng.random() < 0.5
            buffer.add(np.array([action_id]), np.array([1.0], np.float32), np.array([terminated]),
                       next_observation[None])
            expected[action_id] = (observation, next_observation, terminated, t == length - 1)
            observation = next_observation
            action_id += 1
    sample = all_transitions(buffer)
    assert 5 <= len(sample.actions) < capacity
    for i, action in enumerate(sample.actions):
        observation, next_observation, terminated, last = expected[int(action)]
        assert np.array_equal(sample.observations[i], observation)
        if last:  # one step: bootstrap from (or end at) the episode's own final stack, never the next episode's
            assert np.array_equal(sample.next_observations[i], next_observation)
            assert sample.dones[i] == terminated and sample.discounts[i] == pytest.approx(0.9)
        if int(action) + 1 in expected and not last:  # two steps inside one episode
            assert np.array_equal(sample.next_observations[i], expected[int(action) + 1][1])
    assert buffer.frames.nbytes == capacity * 2 * 2  # one byte per pixel, each frame once


def test_vector_streams_skip_the_autoreset_step():
    buffer = ReplayBuffer(20, (1,), np.float32, n_envs=2)
    buffer.start(np.array([0, 1]), np.array([[0.0], [100.0]], np.float32))
    buffer.add(np.array([0, 1]), np.ones(2, np.float32), np.array([True, False]), np.array([[1.0], [101.0]]))
    # Env 0 ended: next step its reset observation arrives (not a transition), env 1 steps on.
    mask = np.array([False, True])
    buffer.add(np.array([9, 2]), np.ones(2, np.float32), np.array([False, False]), np.array([[50.0], [102.0]]),
               mask)
    buffer.start(np.array([0]), np.array([[50.0]], np.float32))
    sample = all_transitions(buffer)
    assert sorted(zip(sample.observations[:, 0], sample.next_observations[:, 0])) == [
        (0, 1), (100, 101), (101, 102)]


def test_sum_tree_samples_in_proportion_to_priority():
    tree = SumTree(5)
    tree.update(np.arange(5), np.array([1.0, 2.0, 0.0, 3.0, 4.0]))
    assert tree.total == pytest.approx(10.0)
    values = np.random.default_rng(0).random(200_000) * tree.total
    counts = np.bincount(tree.find(values), minlength=5) / len(values)
    assert counts[2] == 0
    np.testing.assert_allclose(counts, [0.1, 0.2, 0.0, 0.3, 0.4], atol=0.005)
    tree.update(np.array([0, 0]), np.array([5.0, 5.0]))  # repeated indices keep the sums right
    assert tree.total == pytest.approx(14.0)


def test_prioritized_buffer_samples_by_priority_with_importance_weights():
    buffer = scalar_buffer(capacity=20, alpha=1.0)
    play(buffer, [0, 1, 2, 3, 4], [0.0] * 4, terminated_at_end=True)
    indices = np.flatnonzero(buffer.valid.reshape(-1))
    buffer.update_priorities(indices, np.array([1.0, 1.0, 2.0, 4.0]))
    counts = np.zeros(4)
    for _ in range(500):
        sample = buffer.sample(16, beta=1.0)
        np.add.at(counts, sample.actions, 1)
        # w_i = (N P(i))^-beta / max w: the rarest sampled transition has weight 1, priority 4 a quarter of it
        assert np.allclose(sample.weights * np.array([1, 1, 2, 4])[sample.actions],
                           sample.weights.max() * np.array([1, 1, 2, 4])[sample.actions].min())
    np.testing.assert_allclose(counts / counts.sum(), [0.125, 0.125, 0.25, 0.5], atol=0.02)


def test_overwritten_transitions_lose_their_priority():
    buffer = scalar_buffer(capacity=6, alpha=0.6)
    for start in range(0, 30, 3):
        play(buffer, [start, start + 1, start + 2], [0.0, 0.0], terminated_at_end=True)
    leaf_priorities = buffer.tree[np.arange(6)]
    assert np.array_equal(leaf_priorities > 0, buffer.valid.reshape(-1))


def test_state_dict_round_trip_resumes_sampling_exactly():
    buffer = scalar_buffer(alpha=0.6, seed=3)
    play(buffer, [0, 1, 2, 3], [1.0, 2.0, 3.0], terminated_at_end=False)
    copy = scalar_buffer(alpha=0.6, seed=99)
    copy.load_state_dict(buffer.state_dict())
    first, second = buffer.sample(8), copy.sample(8)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
