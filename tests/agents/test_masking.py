"""Action masks: moved from info into the observation, honoured by PPO (sampling, log-probs, greedy) and DQN
(greedy, exploration, the target's max), and learned around on a masked synthetic game."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymforge.agents.dqn import DQN, DQNConfig
from gymforge.agents.policy import masked_q
from gymforge.agents.ppo import PPO, PPOConfig
from gymforge.envs import make_env
from gymforge.networks import CategoricalHead

from gymforge.engine.seeding import seed_everything
from tests.agents.conformance_envs import EPISODE_LENGTH, env_id
from tests.helpers import shifted_seed

MASKED = env_id("Masked")
PPO_TINY = {"n_envs": 2, "n_steps": 16, "batch_size": 16, "n_epochs": 1, "steps": 64}


def play(agent, episodes: int = 10, seed: int = 123) -> tuple[float, float, int]:
    """(mean return, mean length, illegal actions) of the agent's greedy policy on its own evaluation env."""
    env = agent.make_env()
    returns, lengths, illegal = [], [], 0
    for episode in range(episodes):
        observation, info = env.reset(seed=seed + episode)
        policy, total, done, length = agent.policy(), 0.0, False, 0
        while not done:
            observation, reward, terminated, truncated, info = env.step(policy(observation))
            total, length, done = total + reward, length + 1, terminated or truncated
        returns.append(total)
        lengths.append(length)
        illegal += info["illegal_actions"]
    env.close()
    return float(np.mean(returns)), float(np.mean(lengths)), illegal


def test_info_action_mask_becomes_an_observation_key():
    env = make_env(MASKED, seed=0)
    observation, info = env.reset(seed=0)
    assert set(observation) == {"observation", "action_mask"}
    assert np.array_equal(observation["action_mask"], info["action_mask"]) and observation["action_mask"].sum() == 2
    observation, *_, info = env.step(int(np.flatnonzero(info["action_mask"])[0]))
    assert np.array_equal(observation["action_mask"], info["action_mask"])
    env.close()
    plain = make_env(MASKED, expose_mask=False)  # no mask in info: the observation stays as the env made it
    assert plain.observation_space == plain.unwrapped.observation_space
    plain.close()


def test_masked_categorical_never_samples_or_prefers_an_illegal_action():
    head = CategoricalHead(3, 4, init_gain=10.0)
    features = torch.randn(64, 3)
    mask = torch.tensor([[1, 0, 1, 0]] * 64, dtype=torch.int8)
    distribution = head(features, mask)
    samples = distribution.sample((50,))
    assert set(samples.unique().tolist()) <= {0, 2}
    assert set(distribution.mode.unique().tolist()) <= {0, 2}
    assert torch.isfinite(distribution.entropy()).all() and (distribution.entropy() <= np.log(2) + 1e-5).all()
    assert torch.allclose(distribution.probs.sum(-1), torch.ones(64))
    assert (distribution.log_prob(torch.ones(64, dtype=torch.long)) < -1e6).all()  # an illegal action scores ~0


def test_dqn_target_takes_the_max_over_the_next_states_legal_actions():
    agent = DQN(DQNConfig(env=MASKED, steps=100, learning_starts=10))
    q = torch.tensor([[5.0, 1.0, 2.0, 3.0]])
    next_observations = {"observation": torch.zeros(1, 2), "action_mask": torch.tensor([[0, 1, 1, 0]], dtype=torch.int8)}
    assert torch.equal(masked_q(q, next_observations).argmax(1), torch.tensor([2]))
    target = agent.td_targets(torch.zeros(1), next_observations, torch.zeros(1), torch.ones(1), next_q=q)
    assert target.item() == pytest.approx(2.0)  # not 5.0: action 0 is illegal in the next state
    all_illegal = {"observation": torch.zeros(1, 2), "action_mask": torch.zeros(1, 4, dtype=torch.int8)}
    assert agent.td_targets(torch.zeros(1), all_illegal, torch.ones(1), torch.ones(1), next_q=q).item() == 0.0
    agent.close()


def test_dqn_explores_and_acts_only_among_legal_actions():
    agent = DQN(DQNConfig(env=MASKED, n_envs=4, steps=400, learning_starts=50, batch_size=8, log_every=200,
                          buffer_size=500))
    agent.train_step()
    agent.train_step()
    _, length, illegal = play(agent)
    assert illegal == 0 and length == EPISODE_LENGTH
    agent.close()


def test_ppo_samples_and_acts_only_among_legal_actions():
    agent = PPO(PPOConfig(env=MASKED, **PPO_TINY))
    agent.collect_rollout()
    masks, actions = agent.buffer.observations["action_mask"], agent.buffer.actions
    chosen = np.take_along_axis(masks, actions[..., None], axis=-1)[..., 0]
    assert (chosen[agent.buffer.valid] == 1).all()
    assert np.isfinite(agent.buffer.log_probs).all()
    agent.update()
    _, length, illegal = play(agent)
    assert illegal == 0 and length == EPISODE_LENGTH
    agent.close()


@pytest.mark.slow
def test_masked_ppo_learns_the_game_that_catches_an_unmasked_one():
    """Same budget and seed: without the mask the policy cannot know which actions are legal and keeps ending
    episodes with an illegal action; with it, it never takes one and learns the rewarding legal choice
    (optimal 2 per step = 16; uniformly random legal play earns 12)."""
    seed = shifted_seed(0)
    options = {"n_envs": 8, "n_steps": 32, "batch_size": 64, "steps": 12_000, "seed": seed, "learning_rate": 1e-3}
    masked = PPO(PPOConfig(env=MASKED, **options))
    unmasked = PPO(PPOConfig(env=MASKED, env_options=("expose_mask=false",), **options))
    for agent in (masked, unmasked):
        while agent.progress < agent.config.steps:
            agent.train_step()
    masked_return, masked_length, masked_illegal = play(masked, episodes=20)
    unmasked_return, unmasked_length, unmasked_illegal = play(unmasked, episodes=20)
    print(f"MARGIN masking seed {seed}: masked return {masked_return:.2f}, bar >= 14.5, illegal {masked_illegal} "
          f"(bar 0); unmasked illegal {unmasked_illegal}, bar >= 10")
    assert masked_illegal == 0 and masked_length == EPISODE_LENGTH
    assert masked_return >= 14.5, masked_return
    assert unmasked_illegal >= 10 and unmasked_return < masked_return / 2
    masked.close()
    unmasked.close()


@pytest.mark.slow
def test_ppo_learns_a_dict_task_that_needs_both_the_image_and_the_vector():
    """DictEnv's target is (bright image half) XOR (sign of a vector feature): neither part alone beats chance
    (4 of 8); 3 of 5 seeds must reach 7 of 8 within 50k steps. Each seed seeds the process as `gymforge train`
    does, so the network's start does not hang on the tests that ran before it in the same worker (at 30k and
    2 of 3 seeds, an unseeded start failed at seed shift 200 in a full run). Measured with this test at shifts
    0, 100, 200 and 300: 8.00, 7.95, 8.00 | 5.70, 7.85, 8.00, 7.95 | 8.00, 7.90, 7.95 | 8.00, 7.85, 8.00 (12 of 13
    seeds pass; a seed that fails sits near 6, still well above chance)."""
    passed = failed = 0
    for base in range(5):
        seed_everything(shifted_seed(base))
        agent = PPO(PPOConfig(env=env_id("Dict"), n_envs=8, n_steps=32, batch_size=64, steps=50_000,
                              learning_rate=1e-3, seed=shifted_seed(base)))
        while agent.progress < agent.config.steps:
            agent.train_step()
        mean_return = agent.evaluate()["mean_return"]
        agent.close()
        print(f"MARGIN dict task seed {shifted_seed(base)}: {mean_return:.2f}, bar >= 7.0, "
              f"margin {mean_return - 7:+.2f}")
        passed += mean_return >= 7.0
        failed += mean_return < 7.0
        if passed == 3 or failed == 3:
            break
    assert passed >= 3
