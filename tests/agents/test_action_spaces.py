"""Action conversions between a policy head and the env (agents/spaces.py) and the MultiBinary Bernoulli head."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymforge.agents.actor_critic import ActorCritic
from gymforge.agents.spaces import (
    from_env_actions,
    network_action_shape,
    require_discrete_actions,
    to_env_actions,
)
from gymnasium import spaces

from gymforge.engine.errors import ConfigError


def test_discrete_start_is_added_on_the_way_out_and_removed_on_the_way_in():
    space = spaces.Discrete(3, start=1)
    out = to_env_actions(space, np.array([0, 1, 2]))
    assert out.tolist() == [1, 2, 3] and all(space.contains(a) for a in out)
    assert from_env_actions(space, out).tolist() == [0, 1, 2]


def test_infinite_box_bounds_never_clip_and_finite_ones_do():
    unbounded = spaces.Box(-np.inf, np.inf, (2,), np.float32)
    actions = np.array([[1e6, -1e6]], np.float32)
    assert np.array_equal(to_env_actions(unbounded, actions), actions)
    half = spaces.Box(np.array([-1.0, -np.inf], np.float32), np.array([1.0, np.inf], np.float32))
    assert to_env_actions(half, actions).tolist() == [[1.0, -1e6]]


def test_shaped_spaces_are_flattened_for_the_head_and_reshaped_for_the_env():
    box = spaces.Box(-1, 1, (2, 3), np.float32)
    assert network_action_shape(box) == (6,)
    assert to_env_actions(box, np.zeros((4, 6), np.float32)).shape == (4, 2, 3)
    binary = spaces.MultiBinary(3)
    out = to_env_actions(binary, np.array([[1.0, 0.0, 1.0]], np.float32))
    assert out.dtype == binary.dtype and binary.contains(out[0])


def test_bernoulli_head_scores_and_picks_each_bit():
    model = ActorCritic(spaces.Box(-1, 1, (3,)), spaces.MultiBinary(4))
    distribution, values, _ = model(torch.randn(5, 3))
    actions = distribution.sample()
    assert actions.shape == (5, 4) and set(actions.unique().tolist()) <= {0.0, 1.0}
    assert distribution.log_prob(actions).shape == (5,)
    assert torch.allclose(distribution.entropy(), torch.full((5,), 4 * np.log(2)), atol=1e-3)  # near-uniform start
    assert not torch.isnan(distribution.mode).any()


def test_a_refusal_names_the_algorithms_that_fit_the_action_space():
    with pytest.raises(ConfigError, match="algorithms for this action space: ppo"):
        require_discrete_actions("dqn", "X-v0", spaces.MultiBinary(3))
    with pytest.raises(ConfigError, match="none"):
        require_discrete_actions("dqn", "X-v0", spaces.Text(3))
