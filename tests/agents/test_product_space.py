"""Tabular Q-learning on Tuple/Dict/MultiDiscrete observations of discrete parts (product-space indexing), and
--env-options for every agent."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymforge.agents.qlearning import QLearning, QLearningConfig
from gymforge.envs.discretize import IndexProductSpace
from gymforge.envs.errors import EnvError

from gymforge.app.api import build_learner, make_config
from gymforge.app.cli import main


class SpaceEnv(gym.Env):
    """An env with a given observation space, for the wrapper alone."""

    def __init__(self, space: gym.Space) -> None:
        self.observation_space, self.action_space = space, gym.spaces.Discrete(2)


def test_blackjack_tuple_is_indexed_as_704_states_one_to_one():
    env = IndexProductSpace(SpaceEnv(gym.spaces.Tuple((gym.spaces.Discrete(32), gym.spaces.Discrete(11),
                                                       gym.spaces.Discrete(2)))))
    assert env.observation_space == gym.spaces.Discrete(704)
    indices = {env.observation((a, b, c)) for a in range(32) for b in range(11) for c in range(2)}
    assert indices == set(range(704))


def test_dict_multidiscrete_and_starts_are_indexed_and_keys_can_be_chosen():
    space = gym.spaces.Dict({"cell": gym.spaces.MultiDiscrete([3, 4], start=[1, -2]),
                             "flag": gym.spaces.Discrete(2, start=5), "action_mask": gym.spaces.MultiBinary(2)})
    env = IndexProductSpace(SpaceEnv(space))
    assert env.observation_space.n == 24  # the mask is not part of the state
    seen = {env.observation({"cell": np.array([a, b]), "flag": f, "action_mask": np.ones(2)})
            for a in (1, 2, 3) for b in (-2, -1, 0, 1) for f in (5, 6)}
    assert seen == set(range(24))
    only_cell = IndexProductSpace(SpaceEnv(space), keys=["cell"])
    assert only_cell.observation_space.n == 12
    with pytest.raises(EnvError, match="colour"):
        IndexProductSpace(SpaceEnv(space), keys=["colour"])


def test_a_product_too_large_for_a_table_says_so_with_its_size():
    space = gym.spaces.MultiDiscrete([100] * 4)
    with pytest.raises(EnvError, match=r"100 x 100 x 100 x 100 = 100,000,000 states\) is too large"):
        IndexProductSpace(SpaceEnv(space))


def test_qlearning_takes_blackjack_with_its_preset():
    config = make_config("qlearning", {"env": "Blackjack-v1", "steps": 2000, "eval_episodes": 50})
    assert config.gamma == 1.0 and config.steps == 2000
    agent = build_learner("qlearning", config)
    assert agent.q.shape == (1, 704, 2)
    agent.train_step()
    assert np.count_nonzero(agent.q) > 50
    assert -1.0 <= agent.evaluate()["mean_return"] <= 1.0
    agent.close()


def test_env_options_reach_gym_make_for_every_agent():
    qlearning = QLearning(QLearningConfig(env="FrozenLake-v1", env_options=("map_name=8x8",), steps=10))
    assert qlearning.q.shape == (1, 64, 4)
    qlearning.close()
    for algo in ("dqn", "ppo"):
        agent = build_learner(algo, make_config(algo, {"env": "FrozenLake-v1", "env_options": ("map_name=8x8",),
                                                       "steps": 1000}, preset="none"))
        assert agent.eval_env.unwrapped.desc.shape == (8, 8)
        agent.close()


def test_presets_carry_env_options():
    assert make_config("ppo", {"env": "CarRacing-v3"}).env_kwargs == {"continuous": False}


def test_bad_env_options_are_one_line(capsys):
    assert main(["train", "qlearning", "--env", "FrozenLake-v1", "--env-options", "map_name", "--steps", "10"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "KEY=VALUE" in error
