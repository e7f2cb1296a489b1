"""The shared observation pipeline: PrepareObservation's prepared form and the encoders built on it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymforge.agents.encoders import MultiInputEncoder, make_encoder, observation_batch
from gymforge.envs import observations
from gymforge.envs.observations import PrepareObservation, channel_first_shape, image_layout, is_image_space
from gymforge.networks import MLP, SmallCNN
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


def box(shape, high=255, dtype=np.uint8):
    return spaces.Box(0, high, shape, dtype)


@pytest.mark.parametrize("space, layout, channel_first", [
    (box((4, 84, 84)), "CHW", (4, 84, 84)),  # an Atari-style frame stack
    (box((1, 10, 10)), "CHW", (1, 10, 10)),  # Catch
    (box((84, 84, 4)), "HWC", (4, 84, 84)),  # a stack on the last axis
    (box((96, 96, 3)), "HWC", (3, 96, 96)),  # CarRacing
    (box((4, 84, 2)), "HWC", (2, 4, 84)),  # 2 is smaller than both 4 and 84: two channels of 4x84
    (box((84, 84)), "HW", (1, 84, 84)),  # a grey frame without its channel axis
    (box((3, 64, 3)), None, None),  # first and last axes tie: no channel axis can be told
    (box((10, 10, 10)), None, None),
    (box((1, 8)), None, None),  # a grey image needs both sides above 1
    (box((8, 8, 3), high=1), None, None),  # uint8 0-1 is a binary table, not pixels to divide by 255
    (box((84, 84, 3), high=1.0, dtype=np.float32), None, None),  # float "images" are features (as SB3)
    (box((2, 84, 84, 3)), None, None),  # rank 4
])
def test_one_rule_says_what_is_an_image_and_where_its_channels_are(space, layout, channel_first):
    from gymforge.agents.worldmodel import is_pixel_space

    assert image_layout(space) == layout
    assert is_image_space(space) == is_pixel_space(space) == (layout is not None)  # the world model asks the same
    wrapper = prepare(space)
    if layout is None:
        assert wrapper.observation_space == spaces.Box(0, float(np.max(space.high)), (int(np.prod(space.shape)),),
                                                       np.float32)
        assert isinstance(make_encoder(wrapper.observation_space)[0], MLP)
    else:
        assert channel_first_shape(space) == wrapper.observation_space.shape == channel_first
        assert image_layout(wrapper.observation_space) == "CHW"  # prepared images read the same way again


def test_a_grey_frame_and_a_two_channel_frame_keep_their_pixels_in_place():
    grey = np.arange(84 * 84, dtype=np.uint8).reshape(84, 84)
    np.testing.assert_array_equal(prepare(box((84, 84))).observation(grey), grey[None])
    pair = np.random.default_rng(0).integers(0, 255, (4, 84, 2), dtype=np.uint8)
    out = prepare(box((4, 84, 2))).observation(pair)
    assert out.shape == (2, 4, 84) and out[1, 3, 80] == pair[3, 80, 1]
    encoder, _ = make_encoder(box((2, 4, 84)))
    assert isinstance(encoder, SmallCNN)  # a 4-pixel side is too small for the Nature CNN's 8x8 stride-4 layer
    assert encoder(observation_batch(out[None])).shape == (1, encoder.output_dim)


def test_a_uint8_box_that_is_not_an_image_is_flattened_with_one_line_that_says_why(capsys, monkeypatch):
    monkeypatch.setattr(observations, "_announced", set())  # each line is printed once per process
    prepare(box((3, 64, 3)))
    prepare(box((3, 64, 3)))
    prepare(box((5, 6, 3), high=1))
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2
    assert "of shape (3, 64, 3) is not read as an image" in printed[0] and "no channel axis can be told" in printed[0]
    assert "bounds are 0 to 1, not 0 to 255" in printed[1] and "flattened into a vector" in printed[1]
