"""DQN: Bellman targets by hand, Double DQN, vector autoreset, checkpoints with the buffer, bad input."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymforge.agents.dqn import DQN, DQNConfig
from gymforge.agents.q_networks import QNetwork
from gymforge.envs import make_vec_env
from torch import nn

from gymforge.engine.errors import ConfigError
from tests.helpers import gymforge

TINY = {"steps": 3_000, "learning_starts": 200, "buffer_size": 2_000, "hidden_sizes": (16, 16), "log_every": 500,
        "eval_episodes": 2}


class TableQ(nn.Module):
    """Q-values looked up by the first observation entry: a network whose outputs a test can write down."""

    def __init__(self, table):
        super().__init__()
        self.table = nn.Parameter(torch.tensor(table, dtype=torch.float32))

    def forward(self, observations):
        return self.table[observations[:, 0].long()]


def agent_with_tables(online, target, **options):
    agent = DQN(DQNConfig(**{**TINY, "gamma": 0.5, **options}))
    agent.online, agent.target = TableQ(online), TableQ(target)
    return agent


def fill(agent, episodes):
    """Write episodes of scalar-indexed states into stream 0: [(states, rewards, terminated_at_end)]."""
    buffer = agent.buffer
    buffer.written[:] = 0
    buffer.valid[:] = False
    for states, rewards, terminated in episodes:
        observation = np.zeros((1, 4), np.float32)
        observation[0, 0] = states[0]
        buffer.start(np.array([0]), observation)
        for t, reward in enumerate(rewards):
            observation = np.zeros((1, 4), np.float32)
            observation[0, 0] = states[t + 1]
            buffer.add(np.array([t % 2]), np.array([reward], np.float32),
                       np.array([terminated and t == len(rewards) - 1]), observation)


def targets_of(agent):
    batch = agent.buffer.transitions(np.flatnonzero(agent.buffer.valid.reshape(-1)))
    tensors = agent.to_tensors(batch)
    targets = agent.td_targets(tensors[2], tensors[3], tensors[4], tensors[5]).numpy()
    return dict(zip(batch.observations[:, 0].astype(int), targets))


TARGET_Q = [[0.0, 0.0], [2.0, 4.0], [6.0, 1.0], [8.0, 3.0], [10.0, 20.0]]


def test_bellman_targets_by_hand_for_terminated_and_truncated_transitions():
    agent = agent_with_tables(TARGET_Q, TARGET_Q)
    fill(agent, [([1, 2, 3], [1.0, 1.0], True),   # 1 -> 2 -> 3, terminated on arrival in 3
                 ([1, 4], [1.0], False)])          # 1 -> 4, cut by a time limit: bootstrap from the final state 4
    batch = agent.buffer.transitions(np.flatnonzero(agent.buffer.valid.reshape(-1)))
    tensors = agent.to_tensors(batch)
    targets = agent.td_targets(tensors[2], tensors[3], tensors[4], tensors[5]).numpy()
    # 1 -> 2: 1 + gamma max Q(2); 2 -> 3 terminated: 1, whatever Q(3) is; 1 -> 4 truncated: 1 + gamma max Q(4)
    assert sorted(targets.tolist()) == pytest.approx([1.0, 1.0 + 0.5 * 6.0, 1.0 + 0.5 * 20.0])


def test_n_step_bellman_targets_by_hand():
    agent = agent_with_tables(TARGET_Q, TARGET_Q, n_step=2)
    fill(agent, [([1, 2, 3, 4], [1.0, 2.0, 3.0], False)])  # truncated after three steps in state 4
    targets = targets_of(agent)
    assert targets[1] == pytest.approx(1.0 + 0.5 * 2.0 + 0.25 * 8.0)  # two rewards, then gamma^2 max Q(3)
    assert targets[2] == pytest.approx(2.0 + 0.5 * 3.0 + 0.25 * 20.0)  # bootstraps from the true final state 4
    assert targets[3] == pytest.approx(3.0 + 0.5 * 20.0)  # one reward left before the cut


def test_double_dqn_takes_the_online_argmax_and_the_target_value():
    online = [[0.0, 0.0], [0.0, 0.0], [1.0, 5.0], [0.0, 0.0], [0.0, 0.0]]
    # In state 2 the online network picks action 1, which the target values at 1 (the target's own max is 6),
    # so Double DQN and DQN must give different targets.
    agent = agent_with_tables(online, TARGET_Q, double_dqn=True)
    fill(agent, [([1, 2], [1.0], False)])
    assert targets_of(agent)[1] == pytest.approx(1.0 + 0.5 * 1.0)
    agent = agent_with_tables(online, TARGET_Q, double_dqn=False)
    fill(agent, [([1, 2], [1.0], False)])
    assert targets_of(agent)[1] == pytest.approx(1.0 + 0.5 * 6.0)


def test_dueling_head_centres_advantages():
    net = QNetwork(gym.spaces.Box(-1.0, 1.0, (4,), np.float32), 3, (8,), dueling=True)
    observations = torch.randn(5, 4)
    q = net(observations)
    features = net.encoder(observations)
    advantages = net.advantage(features)
    assert torch.allclose(q.mean(dim=1, keepdim=True), net.value(features), atol=1e-6)
    assert torch.allclose(q - q.mean(dim=1, keepdim=True), advantages - advantages.mean(dim=1, keepdim=True),
                          atol=1e-6)


def test_vector_autoreset_stores_true_final_observations_and_skips_the_reset_step():
    """Every stored transition is one the environments really made; none goes from a final to a first obs."""
    agent = DQN(DQNConfig(**{**TINY, "n_envs": 3, "learning_starts": 10_000}))
    agent.envs.close()
    agent.envs = make_vec_env("CartPole-v1", 3, max_episode_steps=5)  # many truncations
    agent.start_episodes(seed=1)
    real, seen = set(), {}
    step = agent.envs.step

    def recording_step(actions):
        seen["out"], seen["actions"] = step(actions), actions
        return seen["out"]

    agent.envs.step = recording_step
    episodes_ended = 0
    for _ in range(40):
        before = agent.observations.copy()
        pending = agent.autoreset.copy()  # these sub-envs reset at this step: not a transition
        agent.step_envs()
        observations, _, terminated, truncated, _ = seen["out"]
        for e in np.flatnonzero(~pending):
            real.add((tuple(before[e]), int(seen["actions"][e]), tuple(observations[e]), bool(terminated[e])))
        episodes_ended += int((terminated | truncated).sum())
    batch = agent.buffer.transitions(np.flatnonzero(agent.buffer.valid.reshape(-1)))
    stored = {(tuple(o), int(a), tuple(n), bool(d)) for o, a, n, d in zip(
        batch.observations, batch.actions, batch.next_observations, batch.dones)}
    assert stored == real
    assert episodes_ended >= 15 and len(stored) == 40 * 3 - episodes_ended + int(agent.autoreset.sum())


def test_continuous_actions_are_refused_naming_what_fits():
    with pytest.raises(ConfigError, match="ppo"):
        DQN(DQNConfig(env="Pendulum-v1"))


@pytest.mark.parametrize("options", [
    {},
    {"n_envs": 4, "double_dqn": True, "dueling": True, "n_step": 3, "prioritized": True, "tau": 0.05,
     "loss": "mse", "max_grad_norm": 0.0},
])
def test_short_runs_log_finite_metrics_and_evaluate(options):
    agent = DQN(DQNConfig(**{**TINY, **options}))
    metrics = {}
    while agent.progress < 1_500:
        metrics = agent.train_step()
    assert np.isfinite([metrics["train/loss"], metrics["train/q_mean"], metrics["train/grad_norm"]]).all()
    assert agent.progress == 1_500 and agent.updates > 0
    figures = agent.evaluate()
    assert figures["episodes"] == 2 and figures["mean_return"] == figures["mean_length"]  # CartPole pays 1 a step
    assert figures["mean_return_ci95_low"] <= figures["mean_return"] <= figures["mean_return_ci95_high"]
    agent.close()


def test_checkpoint_with_buffer_resumes_the_same_updates(tmp_path):
    options = {**TINY, "save_buffer": True, "prioritized": True}
    agent = DQN(DQNConfig(**options))
    while agent.progress < 1_000:
        agent.train_step()
    torch.save(agent.state_dict(), tmp_path / "state.pt")
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    copy = DQN(DQNConfig(**{**options, "seed": 7}))
    copy.load_state_dict(state)
    assert copy.progress == 1_000 and copy.learning_begins == options["learning_starts"]
    written = int(agent.buffer.written[0])
    np.testing.assert_array_equal(copy.buffer.frames[:, :written], agent.buffer.frames[:, :written])
    assert len(copy.buffer) == len(agent.buffer)  # the resumed episode's first frame starts no transition yet
    agent.load_state_dict(state)  # both now stand where a resume would: every later update must agree
    torch.manual_seed(0)
    a = agent.train_round()
    torch.manual_seed(0)
    b = copy.train_round()
    assert a == pytest.approx(b)  # the same batches from the same buffer, rng and weights give the same update
    without = DQN(DQNConfig(**TINY))
    without.load_state_dict(DQN(DQNConfig(**TINY)).state_dict() | {"progress": 1_000})
    assert without.learning_begins == 1_000 + TINY["learning_starts"]  # refills before learning again


def test_a_checkpoint_saved_before_the_replay_stream_was_listed_still_loads():
    """The replay sampler's RNG is one of DQN's `rngs` (so torchrun can give each rank its own after a resume);
    a checkpoint from before that holds only "exploration": it loads, and the buffer keeps its fresh stream."""
    agent = DQN(DQNConfig(**TINY))
    state = agent.state_dict()
    assert set(state["rng"]) == {"exploration", "replay"}
    del state["rng"]["replay"]
    copy = DQN(DQNConfig(**TINY))
    fresh = copy.buffer.rng.bit_generator.state
    copy.load_state_dict(state)
    assert copy.buffer.rng.bit_generator.state == fresh
    agent.close()
    copy.close()


def test_cli_refuses_continuous_actions_and_a_preset_for_another_env(tmp_path):
    for args, fragments in [(["--env", "Pendulum-v1"], ["needs a Discrete action space", "ppo"]),
                            (["--preset", "CartPole-v1", "--env", "Acrobot-v1"], ["tuned for CartPole-v1"])]:
        result = gymforge("train", "dqn", *args, "--logdir", str(tmp_path))
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert all(fragment in lines[0] for fragment in fragments), lines[0]
