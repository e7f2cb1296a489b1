"""The shared observation pipeline: PrepareObservation's prepared form and the encoders built on it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from gymforge.agents.encoders import MultiInputEncoder, make_encoder, observation_batch
from gymforge.envs.observations import PrepareObservation, is_image_space
from gymnasium import spaces


class SpaceEnv(gym.Env):
    def __init__(self, space: gym.Space) -> None:
        self.observation_space, self.action_space = space, spaces.Discrete(2)


def prepare(space: gym.Space, **options) -> PrepareObservation:
    return PrepareObservation(SpaceEnv(space), **options)


def test_float64_and_any_rank_boxes_become_flat_float32():
    wrapper = prepare(spaces.Box(-np.inf, np.inf, (5, 5), np.float64))
    assert wrapper.observation_space == spaces.Box(-np.inf, np.inf, (25,), np.float32)
    table = np.arange(25, dtype=np.float64).reshape(5, 5)
    out = wrapper.observation(table)
    assert out.dtype == np.float32 and np.array_equal(out, table.reshape(-1))


def test_channel_last_images_move_channels_first_and_frame_stacks_stay():
    assert is_image_space(spaces.Box(0, 255, (96, 96, 3), np.uint8))
    assert not is_image_space(spaces.Box(0, 1, (96, 96, 3), np.float32))  # float "images" are features (as SB3)
    wrapper = prepare(spaces.Box(0, 255, (6, 5, 3), np.uint8))
    assert wrapper.observation_space.shape == (3, 6, 5)
    image = np.random.default_rng(0).integers(0, 255, (6, 5, 3), dtype=np.uint8)
    out = wrapper.observation(image)
    assert out.dtype == np.uint8 and np.array_equal(out[2], image[:, :, 2])
    stack = prepare(spaces.Box(0, 255, (4, 84, 84), np.uint8))
    assert stack.observation_space.shape == (4, 84, 84)


def test_discrete_parts_are_one_hot_and_dicts_split_images_from_one_vector():
    space = spaces.Dict({"image": spaces.Box(0, 255, (8, 8, 3), np.uint8), "speed": spaces.Box(-1, 1, (2,)),
                         "direction": spaces.Discrete(4, start=1), "keys": spaces.MultiBinary(2),
                         "mission": spaces.Text(5)})
    wrapper = prepare(space, verbose=False)
    assert set(wrapper.observation_space.spaces) == {"image", "vector"}
    assert wrapper.observation_space["vector"].shape == (2 + 4 + 2,)
    out = wrapper.observation({"image": np.zeros((8, 8, 3), np.uint8), "speed": np.array([0.5, -0.5]),
                               "direction": 2, "keys": np.array([1, 0]), "mission": "abc"})
    assert out["image"].shape == (3, 8, 8)
    # gymnasium sorts Dict keys: direction (one-hot of 2 - start 1), keys, speed
    assert np.array_equal(out["vector"], np.array([0, 1, 0, 0, 1, 0, 0.5, -0.5], np.float32))
    only_image = prepare(space, keys=["image"], verbose=False)
    assert only_image.observation_space == spaces.Box(0, 255, (3, 8, 8), np.uint8)


def test_tuple_positions_and_a_dropped_text_part_are_reported_once(capsys):
    space = spaces.Tuple((spaces.Box(-1, 1, (3,)), spaces.Discrete(3), spaces.Text(4)))
    first, second = prepare(space), prepare(space)
    assert first.observation_space == second.observation_space == spaces.Box(
        np.array([-1, -1, -1, 0, 0, 0], np.float32), np.ones(6, np.float32), dtype=np.float32)
    printed = [line for line in capsys.readouterr().out.splitlines() if "dropping" in line]
    assert len(printed) == 1 and "2 (Text)" in printed[0]


def test_multi_input_encoder_fuses_images_and_vector_and_ignores_the_mask():
    space = spaces.Dict({"image": spaces.Box(0, 255, (3, 8, 8), np.uint8), "vector": spaces.Box(-1, 1, (7,)),
                         "action_mask": spaces.MultiBinary(4)})
    encoder, features = make_encoder(space, hidden_sizes=(32, 16))
    assert isinstance(encoder, MultiInputEncoder) and features == 16
    batch = {"image": np.zeros((5, 3, 8, 8), np.uint8), "vector": np.zeros((5, 7), np.float32),
             "action_mask": np.ones((5, 4), np.int8)}
    out = encoder(observation_batch(batch))
    assert out.shape == (5, 16)
    changed = dict(batch, action_mask=np.zeros((5, 4), np.int8))
    assert torch.equal(encoder(observation_batch(changed)), out)
