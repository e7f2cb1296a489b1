"""The Python API (gymforge/estimator.py) for every registered algorithm: Algo(subject, **options), learn a
little into a run folder, save, load (the file and the run folder) and act or sample identically; loading and
constructing leave the caller's random state and thread count alone."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

from gymforge.agents import DQN, PPO
from gymforge.app import api
from gymforge.engine.errors import CheckpointError, ConfigError, UserError
from gymforge.engine.registry import ALGORITHMS
from gymforge.generative import VAE
from tests.helpers import scalar_values

GENERATIVE = {"batch_size": 16, "eval_samples": 10, "grid_size": 4}
TINY = {  # subject, options, steps to learn
    "qlearning": ("FrozenLake-v1", {"eval_episodes": 2, "log_every": 100}, 300),
    "dqn": ("CartPole-v1", {"learning_starts": 32, "batch_size": 16, "buffer_size": 1000, "eval_episodes": 2,
                            "log_every": 100, "hidden_sizes": [16]}, 128),
    "ppo": ("CartPole-v1", {"n_envs": 2, "n_steps": 32, "batch_size": 32, "eval_episodes": 2,
                            "hidden_sizes": [16]}, 64),
    "worldmodel": ("gymforge/Catch-v0", {
        "frame_size": 0, "initial_steps": 30, "collect_steps": 20, "latent_dim": 4, "vae_channels": [8, 16],
        "vae_hidden": 32, "vae_updates": 2, "vae_warmup": 2, "model_hidden": 16, "model_updates": 2, "batch_size": 8,
        "sequence_length": 8, "dream_steps": 128, "dream_horizon": 12, "eval_episodes": 2,
        "controller_options": ["n_envs=8", "n_steps=16", "batch_size=64", "n_epochs=1"]}, 30),
    "ae": ("digits", {**GENERATIVE, "channels_per_layer": [8, 16]}, 32),
    "vae": ("digits", {**GENERATIVE, "channels_per_layer": [8, 16], "hidden_dim": 32, "iwae_samples": 2}, 32),
    "gan": ("digits", {**GENERATIVE, "base_channels": 4}, 32),
    "dcgan": ("digits", {**GENERATIVE, "base_channels": 4}, 32),
    "cgan": ("digits", {**GENERATIVE, "base_channels": 4}, 32),
    "wgan-gp": ("digits", {**GENERATIVE, "base_channels": 4, "critic_steps": 2}, 32),
    "cyclegan": ("digits", {**GENERATIVE, "base_channels": 4, "residual_blocks": 1}, 32),
}


@pytest.fixture(scope="module", autouse=True)
def classifier_cache(tmp_path_factory):
    """The generators' judge classifier is trained once for this file, in a private folder."""
    previous = os.environ.get("GYMFORGE_CACHE")
    os.environ["GYMFORGE_CACHE"] = str(tmp_path_factory.mktemp("gymforge-cache"))
    yield
    if previous is None:
        os.environ.pop("GYMFORGE_CACHE", None)
    else:
        os.environ["GYMFORGE_CACHE"] = previous


def tensors(tree, prefix=""):
    """The leaves of a nested state dict by path, tensors and numbers alike."""
    if isinstance(tree, dict):
        return {k: v for key, value in tree.items() for k, v in tensors(value, f"{prefix}/{key}").items()}
    if isinstance(tree, list | tuple):
        return {k: v for index, value in enumerate(tree) for k, v in tensors(value, f"{prefix}/{index}").items()}
    return {prefix: tree}


def assert_same_state(a, b):
    a, b = tensors(a.state_dict()), tensors(b.state_dict())
    assert a.keys() == b.keys()
    different = [key for key in a if not (torch.equal(a[key], b[key]) if isinstance(a[key], torch.Tensor)
                                          else a[key] == b[key])]
    assert not different, different


def test_every_registered_algorithm_has_a_tiny_round_trip_below():
    assert set(TINY) == set(ALGORITHMS)


@pytest.mark.parametrize("algo", list(TINY))
def test_learn_save_load_acts_or_samples_identically(algo, tmp_path):
    subject, options, steps = TINY[algo]
    algorithm = ALGORITHMS[algo]
    learner_class = algorithm.load()[0]
    learner = learner_class(subject, seed=1, **options)
    assert learner.learn(steps, logdir=tmp_path, name="run", progress_bar=False) is learner
    assert learner.progress >= steps and learner.run_path == tmp_path / "run"
    assert learner.trainer.run.read_summary()["status"] == "finished"
    copies = [learner_class.load(learner.save(tmp_path / "saved.pt")), learner_class.load(tmp_path / "run", "last")]
    try:
        for copy in copies:
            assert type(copy) is learner_class and copy.progress == learner.progress
            assert_same_state(learner, copy)
        if algorithm.kind == "agent":
            env = learner.make_env()
            env.observation_space.seed(0)
            observations = [env.observation_space.sample() for _ in range(16)]
            env.close()
            actions = [np.asarray(learner.predict(o)).tolist() for o in observations]
            for copy in copies:
                assert [np.asarray(copy.predict(o)).tolist() for o in observations] == actions
                assert [np.asarray(copy.act(o)).tolist() for o in observations] == actions
        elif learner.has_prior:
            samples = learner.sample(6, seed=3)
            assert samples.dtype == np.uint8 and samples.shape == (6, 16, 16, 1)
            assert not np.array_equal(samples, learner.sample(6, seed=4))
            for copy in copies:
                np.testing.assert_array_equal(copy.sample(6, seed=3), samples)
        else:  # an autoencoder or CycleGAN has no prior: what it shows is held-out images beside their outputs
            with pytest.raises(UserError, match="no prior"):
                learner.sample(6)
            grid = learner.sample_grid(6, seed=3, reconstruct=True)
            for copy in copies:
                np.testing.assert_array_equal(copy.sample_grid(6, seed=3, reconstruct=True), grid)
    finally:
        for each in (learner, *copies):
            each.close()


def rng_states():
    return random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state().clone(), torch.get_num_threads()


def assert_untouched(before):
    after = rng_states()
    assert after[0] == before[0]
    np.testing.assert_array_equal(after[1], before[1])
    assert torch.equal(after[2], before[2]) and after[3] == before[3]


def test_constructing_learning_and_loading_leave_the_callers_rng_and_threads_untouched(tmp_path):
    options = dict(TINY["ppo"][1])
    threads = torch.get_num_threads()
    random.seed(7), np.random.seed(7), torch.manual_seed(7)
    torch.set_num_threads(2)  # the config asks for 1 while training; the caller's 2 must come back
    try:
        before = rng_states()
        first, second = PPO("CartPole-v1", seed=5, **options), PPO("CartPole-v1", seed=5, **options)
        assert_same_state(first, second)  # the same seed, the same initial weights
        assert_untouched(before)
        first.learn(64, logdir=tmp_path, name="r", progress_bar=False)
        assert_untouched(before)
        first.save(tmp_path / "p.pt")
        loaded = [api.load_learner(tmp_path / "r"), PPO.load(tmp_path / "p.pt"), api.load_learner(tmp_path / "p.pt")]
        assert_untouched(before)
        for learner in (first, second, *loaded):
            learner.close()
    finally:
        torch.set_num_threads(threads)


def test_a_second_learn_continues_the_same_run_and_the_same_seed_learns_the_same(tmp_path):
    options = dict(TINY["ppo"][1])
    twice = PPO("CartPole-v1", seed=2, **options).learn(64, logdir=tmp_path, name="twice", progress_bar=False)
    twice.learn(64, progress_bar=False)
    assert twice.progress == 128 and twice.trainer.run.read_summary()["progress"] == 128
    assert "steps: 100000" in (tmp_path / "twice" / "config.yaml").read_text()  # the budget stays the preset's
    with pytest.raises(ConfigError, match="continues its run folder"):
        twice.learn(64, name="elsewhere")
    # each learner trains in its own global random stream, whatever the caller drew meanwhile
    first = PPO("CartPole-v1", seed=2, **options).learn(128, logdir=tmp_path, name="a", progress_bar=False)
    torch.rand(100), np.random.rand(100)
    second = PPO("CartPole-v1", seed=2, **options).learn(128, logdir=tmp_path, name="b", progress_bar=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a", "b", "twice"]
    assert_same_state(first, second)
    for learner in (twice, first, second):
        learner.close()


def learning_rates(run_dir) -> list[float]:
    return [value for _, value in scalar_values(run_dir, "train/learning_rate")]


def test_learn_twice_follows_the_learning_rate_curve_of_one_learn(tmp_path):
    """Finding 1: learn(256) then learn(256) once annealed the linear rate to 0 at the end of the first call and
    started the second at half the initial rate. The engine owns the horizon (the model's `steps`)."""
    options = {**TINY["ppo"][1], "steps": 512, "eval_every": 0, "learning_rate": 1e-3}
    twice = PPO("CartPole-v1", seed=2, **options).learn(256, logdir=tmp_path, name="twice", progress_bar=False)
    twice.learn(256, progress_bar=False)
    once = PPO("CartPole-v1", seed=2, **options).learn(512, logdir=tmp_path, name="once", progress_bar=False)
    rest = PPO("CartPole-v1", seed=2, **options).learn(logdir=tmp_path, name="rest", progress_bar=False)
    # one update per rollout of 2 x 32 steps, at the progress the rollout reached
    expected = [1e-3 * (1 - step / 512) for step in range(64, 513, 64)]
    assert learning_rates(tmp_path / "once") == pytest.approx(expected)
    assert learning_rates(tmp_path / "twice") == pytest.approx(expected)
    assert learning_rates(tmp_path / "rest") == pytest.approx(expected)  # learn() trains to the budget
    assert twice.horizon == once.horizon == 512 and twice.config.steps == 512
    # past the budget the horizon extends to where the call ends, and the schedules are re-planned over it
    once.learn(128, progress_bar=False)
    assert once.horizon == 640 and learning_rates(tmp_path / "once")[-2:] == pytest.approx([1e-3 * (1 - 576 / 640),
                                                                                            1e-3 * (1 - 640 / 640)])
    with pytest.raises(ConfigError, match="trained its whole budget"):
        rest.learn()
    for learner in (twice, once, rest):
        learner.close()


def test_learn_trains_exactly_as_the_cli_does(tmp_path):
    """api.train (what `gymforge train --steps 256` runs: seed the process, build, fit) and
    Algo(..., steps=256).learn() end identical: `steps` is the budget the schedules anneal over either way."""
    options = dict(TINY["dqn"][1])
    run = api.train("dqn", env="CartPole-v1", seed=3, steps=256, logdir=tmp_path, name="cli", progress_bar=False,
                    **options)
    learner = DQN("CartPole-v1", seed=3, steps=256, **options).learn(logdir=tmp_path, name="api", progress_bar=False)
    cli = api.load_learner(run.path, "last")
    assert_same_state(cli, learner)
    for each in (cli, learner):
        each.close()


def test_mistakes_are_one_line_refusals(tmp_path):
    learner = PPO("CartPole-v1", **TINY["ppo"][1])
    learner.save(tmp_path / "ppo.pt")
    with pytest.raises(CheckpointError, match="holds a ppo, not a dqn"):
        DQN.load(tmp_path / "ppo.pt")
    with pytest.raises(ConfigError, match="unknown option.*n_env\\b"):
        PPO("CartPole-v1", n_env=4)
    with pytest.raises(ConfigError, match="takes one env name"):
        PPO("CartPole-v1", "MlpPolicy")
    with pytest.raises(UserError, match="no actions"):
        VAE("digits", batch_size=16).predict(np.zeros((16, 16, 1)))
    with pytest.raises(ConfigError, match="positive"):
        learner.learn(0)
    learner.close()
