"""PPO: the clipped objective's gradients, actor/critic isolation, action spaces, bad configs, checkpoints,
recurrent bookkeeping, and a small learning check on CartPole."""

import io

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymforge.agents.actor_critic import ActorCritic
from gymforge.agents.ppo import PPO, PPOConfig
from gymforge.agents.rollout import Minibatch

from gymforge.engine.errors import ConfigError
from tests.helpers import gymforge, shifted_seed


def minibatch(agent, old_log_prob_shift, advantage):
    """A batch of 8 CartPole states whose old log-probs sit `old_log_prob_shift` below the current ones."""
    obs = torch.randn(8, 4)
    with torch.no_grad():
        distribution, values, _ = agent.model(obs)
        actions = distribution.sample()
        log_probs = distribution.log_prob(actions)
    return Minibatch(obs, actions, log_probs - old_log_prob_shift, values, torch.full((8,), float(advantage)),
                     values + 1.0, None, None, ())


def actor_gradient(agent, batch):
    agent.model.zero_grad()
    loss, _ = agent.losses(batch, clip_range=0.2)
    loss.backward()
    return torch.cat([p.grad.flatten() for p in agent.model.actor_parameters() if p.grad is not None])


@pytest.fixture()
def agent():
    torch.manual_seed(0)
    agent = PPO(PPOConfig(env="CartPole-v1", n_envs=2, n_steps=8, batch_size=16, normalize_advantage=False,
                          vf_coef=0.0, ent_coef=0.0))
    yield agent
    agent.close()


@pytest.mark.parametrize("shift, advantage", [(0.5, 1.0), (-0.5, -1.0)])  # ratio e^0.5 > 1.2; e^-0.5 < 0.8
def test_clipped_objective_has_no_gradient_beyond_the_clip_range_in_the_advantages_direction(agent, shift,
                                                                                             advantage):
    gradient = actor_gradient(agent, minibatch(agent, shift, advantage))
    assert torch.count_nonzero(gradient) == 0


@pytest.mark.parametrize("shift, advantage", [(0.0, 1.0), (0.5, -1.0), (-0.5, 1.0)])
def test_clipped_objective_keeps_its_gradient_inside_the_range_or_against_the_advantage(agent, shift, advantage):
    assert actor_gradient(agent, minibatch(agent, shift, advantage)).abs().sum() > 0


@pytest.mark.parametrize("shared", [False, True])
def test_value_loss_leaves_separate_actor_gradients_untouched(shared):
    model = ActorCritic(gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2), shared=shared)
    _, values, _ = model(torch.randn(16, 4))
    (values - torch.randn(16)).square().mean().backward()
    actor_grads = [p.grad for p in model.actor_parameters() if p.grad is not None and p.grad.abs().sum() > 0]
    critic_grads = [p.grad for p in model.critic_head.parameters() if p.grad is not None]
    assert critic_grads
    assert bool(actor_grads) == shared  # shared trunks do learn from the value loss; separate ones never


@pytest.mark.parametrize("options, fragment", [
    ({"n_envs": 2, "n_steps": 16, "batch_size": 64}, "smaller than a minibatch"),
    ({"n_envs": 4, "n_steps": 16, "batch_size": 48}, "does not split into minibatches"),
    ({"n_envs": 4, "n_steps": 16, "batch_size": 8, "memory": "lstm"}, "whole env sequences"),
    ({"n_envs": 4, "n_steps": 16, "batch_size": 48, "memory": "gru", "n_epochs": 1}, "split"),
    ({"n_envs": 6, "n_steps": 16, "batch_size": 64, "memory": "lstm"}, "divides --n-envs x --n-steps = 96"),
])
def test_inconsistent_minibatches_are_refused(options, fragment):
    with pytest.raises(ConfigError, match=fragment):
        PPOConfig(**options)


def test_cli_refuses_a_recurrent_minibatch_that_splits_sequences_in_one_line(tmp_path):
    result = gymforge("train", "ppo", "--env", "CartPole-v1", "--memory", "lstm", "--n-envs", "4", "--n-steps",
                      "16", "--batch-size", "8", "--logdir", str(tmp_path))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "whole env sequences" in lines[0] and "--batch-size k*16" in lines[0]


def test_cli_refuses_a_rollout_smaller_than_a_minibatch_in_one_line(tmp_path):
    result = gymforge("train", "ppo", "--env", "CartPole-v1", "--n-envs", "2", "--n-steps", "16",
                      "--batch-size", "64", "--logdir", str(tmp_path))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "smaller than a minibatch" in lines[0] and "lower --batch-size" in lines[0]


def test_gaussian_actions_are_stored_raw_and_clipped_only_for_the_env():
    agent = PPO(PPOConfig(env="Pendulum-v1", n_envs=2, n_steps=64, batch_size=64, log_std_init=1.0))
    agent.train_step()
    actions = agent.buffer.actions
    assert actions.shape == (64, 2, 1) and np.abs(actions).max() > 2.0  # std e^1: some samples beyond [-2, 2]
    assert np.all(np.abs(agent.to_env_action(actions)) <= 2.0)
    assert agent.buffer.values.std() > 0
    agent.close()


def test_multidiscrete_policy_samples_and_scores_every_dimension():
    model = ActorCritic(gym.spaces.Box(-1, 1, (3,)), gym.spaces.MultiDiscrete([3, 4]))
    distribution, values, _ = model(torch.randn(5, 3))
    actions = distribution.sample()
    assert actions.shape == (5, 2) and values.shape == (5,)
    assert distribution.log_prob(actions).shape == (5,)
    assert torch.allclose(distribution.entropy(), torch.full((5,), np.log(3) + np.log(4)), atol=1e-3)


def test_checkpoint_round_trip_keeps_weights_and_frozen_normalization_statistics():
    config = PPOConfig(env="Pendulum-v1", n_envs=2, n_steps=32, batch_size=64, normalize_observation=True,
                       normalize_reward=True)
    agent = PPO(config)
    agent.train_step()
    data = io.BytesIO()
    torch.save(agent.state_dict(), data)
    data.seek(0)
    clone = PPO(config)
    clone.load_state_dict(torch.load(data, weights_only=True))
    mean = agent.standardizer().mean
    np.testing.assert_allclose(clone.standardizer().mean, mean)
    assert clone.progress == agent.progress
    observation = np.array([0.5, -0.5, 3.0], dtype=np.float32)
    assert np.allclose(agent.act(observation), clone.act(observation))
    assert not np.allclose(mean, 0)  # the statistics moved, so the check above means something
    agent.close()
    clone.close()


@pytest.mark.parametrize("memory", ["lstm", "gru"])
def test_recurrent_sequences_replay_the_rollouts_values_and_log_probs(memory):
    """Recomputing whole sequences from the stored initial state, with resets at episode starts, gives
    exactly what the step-by-step rollout computed (before any update)."""
    agent = PPO(PPOConfig(env="gymforge/CartPoleNoVel-v0", memory=memory, n_envs=4, n_steps=64, batch_size=128,
                          env_options=("max_episode_steps=20",)))
    agent.collect_rollout()
    agent.collect_rollout()  # the second rollout starts mid-episode from a non-zero state
    assert agent.buffer.episode_starts.sum() > 4 and not agent.buffer.valid.all()
    for batch in agent.buffer.sequences(2, agent.rng):
        with torch.no_grad():
            distribution, values, _ = agent.model(batch.observations, batch.initial_state, batch.episode_starts)
        torch.testing.assert_close(values, batch.old_values, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(distribution.log_prob(batch.actions), batch.old_log_probs, atol=1e-5, rtol=1e-5)
    agent.close()


@pytest.mark.parametrize("env, options", [
    ("gymforge/TMaze-v0", {"memory": "transformer", "memory_length": 8}),
    ("gymforge/Catch-v0", {}),
    ("gymforge/TMaze-v0", {"memory": "gru", "shared_network": True}),
])
def test_policies_for_memory_and_pixels_train_and_act(env, options):
    agent = PPO(PPOConfig(env=env, n_envs=4, n_steps=32, batch_size=64, eval_episodes=2, **options))
    metrics = agent.train_step()
    assert np.isfinite(metrics["train/value_loss"])
    assert agent.evaluate()["episodes"] == 2
    agent.close()


def test_ppo_learns_cartpole_quickly():
    """The CartPole preset on a fifth of its budget (the 475 bar is benchmarks/ppo_cartpole.py's job)."""
    from gymforge.app.api import build_learner, make_config

    agent = build_learner("ppo", make_config("ppo", {"env": "CartPole-v1", "steps": 20_000, "eval_episodes": 10}))
    while agent.progress < 20_000:
        agent.train_step()
    assert agent.evaluate()["mean_return"] >= 150
    agent.close()


@pytest.mark.slow
def test_cartpole_preset_still_balances_the_pole_at_the_end_of_its_budget():
    """Regression: at lr 4e-3 the preset solved early and then collapsed (seed 0 ended its 100k steps at 125),
    so the README's main command handed users a poor agent. The policy at the END must be a solved one: at least
    2 of 3 seeds hold >= 475 over 50 test episodes."""
    from gymforge.app.api import build_learner, make_config

    results = []
    for base in (0, 1, 2):
        seed = shifted_seed(base)
        agent = build_learner("ppo", make_config("ppo", {"env": "CartPole-v1", "seed": seed, "eval_episodes": 50}))
        while agent.progress < agent.config.steps:
            agent.train_step()
        results.append(agent.evaluate("test")["mean_return"])
        agent.close()
        print(f"MARGIN ppo cartpole seed {seed}: last policy {results[-1]:.1f}, bar >= 475, "
              f"margin {results[-1] - 475:+.1f}")
    assert sum(value >= 475 for value in results) >= 2, results


def test_cli_trains_evaluates_and_records_a_normalized_continuous_policy(tmp_path, capsys):
    """Observation statistics travel in the checkpoint: evaluate and watch see what training saw."""
    from gymforge.app.cli import main

    logdir = str(tmp_path)
    assert main(["train", "ppo", "--env", "Pendulum-v1", "--steps", "2048", "--n-envs", "2", "--n-steps", "512",
                 "--eval-every", "1024", "--eval-episodes", "1", "--logdir", logdir, "--name", "p"]) == 0
    state = torch.load(tmp_path / "p" / "checkpoints" / "last.pt", weights_only=True)
    saved = state["learner"]["normalization"]["NormalizeObservation"]["obs_rms"]
    assert isinstance(saved["mean"], torch.Tensor) and saved["count"] > 2048
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "p"), "--episodes", "2", "--json", "--checkpoint", "last"]) == 0
    assert "mean_return" in capsys.readouterr().out
    assert main(["watch", str(tmp_path / "p"), "--episodes", "1", "--record", str(tmp_path / "p.gif")]) == 0
    assert (tmp_path / "p.gif").stat().st_size > 0


def test_target_kl_stops_the_epochs_early_and_says_so():
    agent = PPO(PPOConfig(env="CartPole-v1", n_envs=4, n_steps=64, batch_size=64, n_epochs=10,
                          learning_rate=0.05, target_kl=1e-4))
    metrics = agent.train_step()
    assert metrics["train/stopped_early"] == 1.0
    assert 1 <= metrics["train/minibatch_updates"] < 40  # 10 epochs x 4 minibatches without the stop
    agent.close()


def test_approx_kl_is_the_k3_estimator_of_the_ratio():
    """(r - 1) - log r for a known log-ratio: a sign error or the k1 estimator (-log r) would fail here."""
    agent = PPO(PPOConfig(env="CartPole-v1", n_envs=2, n_steps=8, batch_size=16))
    for shift in (0.3, -0.2):  # old log-probs `shift` below the current ones: log r = shift
        _, diagnostics = agent.losses(minibatch(agent, shift, 1.0), 0.2)
        expected = (np.exp(shift) - 1) - shift
        assert float(diagnostics["approx_kl"]) == pytest.approx(expected, rel=1e-4)
    agent.close()


def test_max_grad_norm_zero_means_no_clipping():
    """Regression: clip_grad_norm_ with 0 zeroed every gradient, so --max-grad-norm 0 learned nothing."""
    agent = PPO(PPOConfig(env="CartPole-v1", n_envs=2, n_steps=32, batch_size=64, n_epochs=1, max_grad_norm=0.0))
    before = [p.detach().clone() for p in agent.model.parameters()]
    metrics = agent.train_step()
    moved = sum(not torch.equal(a, p) for a, p in zip(before, agent.model.parameters()))
    assert moved >= len(before) // 2 and metrics["train/grad_norm"] > 0
    agent.close()
    with pytest.raises(ConfigError, match="max-grad-norm"):
        PPOConfig(max_grad_norm=-1.0)


def test_atari_presets_share_one_nature_cnn_between_actor_and_critic():
    from gymforge.app.api import make_config

    for env in ("ALE/Breakout-v5", "ALE/Pong-v5"):
        assert make_config("ppo", {"env": env}).shared_network, env
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")
    agent = PPO(make_config("ppo", {"env": "ALE/Breakout-v5", "n_envs": 1, "n_steps": 8, "batch_size": 8}))
    convolutions = [m for m in agent.model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convolutions) == 3  # one Nature CNN (3 conv layers), not two
    agent.close()


def test_value_clipping_limits_how_far_values_move_from_the_rollouts():
    agent = PPO(PPOConfig(env="CartPole-v1", n_envs=2, n_steps=8, batch_size=16, clip_range_vf=0.1,
                          normalize_advantage=False))
    batch = minibatch(agent, 0.0, 0.0)._replace(returns=torch.full((8,), 100.0))
    far = batch._replace(old_values=batch.old_values - 1.0)  # current values sit 1.0 above the old ones
    _, near_diagnostics = agent.losses(batch, 0.2)
    _, far_diagnostics = agent.losses(far, 0.2)
    # max(unclipped, clipped) loss: the clipped prediction old + 0.1 is farther from the return, so it counts
    expected = 0.5 * (far.old_values + 0.1 - 100.0).square().mean()
    torch.testing.assert_close(far_diagnostics["value_loss"], expected.detach())
    assert far_diagnostics["value_loss"] > near_diagnostics["value_loss"]


def test_atari_policy_steps_through_the_standard_wrappers():
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")
    agent = PPO(PPOConfig(env="ALE/Pong-v5", n_envs=2, n_steps=8, batch_size=16, n_epochs=1, eval_episodes=1))
    assert agent.envs.single_observation_space.shape == (4, 84, 84)
    assert np.isfinite(agent.train_step()["train/value_loss"])
    assert agent.make_env().observation_space.shape == (4, 84, 84)
    agent.close()


def test_continuous_lunar_lander_preset_passes_its_env_options_to_gym_make():
    pytest.importorskip("Box2D")
    from gymforge.app.api import make_config

    config = make_config("ppo", {"env": "LunarLander-v3", "n_envs": 2, "n_steps": 32, "batch_size": 64},
                         preset="LunarLanderContinuous-v3")
    assert config.env == "LunarLander-v3" and config.env_kwargs == {"continuous": True}
    agent = PPO(config)
    assert isinstance(agent.action_space, gym.spaces.Box) and agent.action_space.shape == (2,)
    assert isinstance(agent.make_env().action_space, gym.spaces.Box)
    agent.close()
