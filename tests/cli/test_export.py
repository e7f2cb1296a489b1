"""gymforge export: every kind of network round-trips through ONNX (onnxruntime agrees with PyTorch to 1e-5 on 100
inputs), normalization is folded in, recurrent state goes in and out explicitly, and mistakes get one line."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from gymforge.app import api
from gymforge.app.cli import main
from gymforge.engine.errors import ConfigError
from gymforge.engine.export import TOLERANCE, check_onnx, write_onnx
from tests.helpers import gymforge

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

RECURRENT = {"n_envs": 2, "n_steps": 16, "batch_size": 32, "memory_size": 16}
KINDS = {
    "mlp": ("ppo", {"env": "CartPole-v1"}),
    "cnn": ("ppo", {"env": "gymforge/Catch-v0", "n_envs": 2, "n_steps": 16, "batch_size": 32}),
    "lstm": ("ppo", {"env": "gymforge/CartPoleNoVel-v0", "memory": "lstm", **RECURRENT}),
    "gru": ("ppo", {"env": "CartPole-v1", "memory": "gru", **RECURRENT}),
    "gaussian": ("ppo", {"env": "Pendulum-v1", "normalize_observation": True}),
    "dqn-mlp": ("dqn", {"env": "CartPole-v1"}),
    "dqn-cnn": ("dqn", {"env": "gymforge/Catch-v0", "dueling": True}),
    "vae": ("vae", {"data": "digits"}),
    "dcgan": ("dcgan", {"data": "digits"}),
    "cgan": ("cgan", {"data": "digits"}),
    "gan": ("gan", {"data": "digits"}),
    "ae": ("ae", {"data": "digits"}),
}


def build(algo, values):
    config = api.make_config(algo, {**values, "steps": 1_000}, preset="none")
    return api.build_learner(algo, config)


def perturbed(exportable, seed=0):
    """Freshly initialized policy heads output near-ties; jitter every weight so outputs are far from trivial."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in exportable.module.parameters():
            parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))
    return exportable


@pytest.mark.parametrize("kind", KINDS)
def test_onnxruntime_agrees_with_pytorch_on_100_inputs(kind, tmp_path):
    algo, values = KINDS[kind]
    learner = build(algo, values)
    try:
        exportable = perturbed(learner.export_module())
        path = tmp_path / f"{kind}.onnx"
        write_onnx(exportable, path)
        differences = check_onnx(exportable, path, n=100)
    finally:
        learner.close()
    assert set(differences) == set(exportable.output_names)
    assert all(difference <= TOLERANCE for difference in differences.values()), differences
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = exportable.sample_inputs(100, 3)
    outputs = session.run(None, inputs)
    axis = exportable.batch_axes.get(exportable.output_names[0], 0)
    assert outputs[0].shape[axis] == 100
    varying = [name for name, output in zip(exportable.output_names, outputs)
               if np.ptp(np.moveaxis(output, exportable.batch_axes.get(name, 0), 0), axis=0).max() > 1e-3]
    assert varying, "the exported network should not answer every input the same way"


def test_exported_policy_acts_as_the_agent_with_its_normalization_folded_in(tmp_path):
    learner = build("ppo", {"env": "Pendulum-v1", "normalize_observation": True})
    try:
        learner.envs.obs_rms.mean = np.array([0.3, -0.2, 1.5])
        learner.envs.obs_rms.var = np.array([0.25, 4.0, 9.0])
        with torch.no_grad():
            learner.model.actor_head.mean.weight.add_(torch.randn_like(learner.model.actor_head.mean.weight))
        exportable = learner.export_module()
        path = tmp_path / "pendulum.onnx"
        write_onnx(exportable, path)
        observations = exportable.sample_inputs(20, 5)["observation"]
        expected = np.stack([learner.act(observation) for observation in observations])
    finally:
        learner.close()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (actions,) = session.run(["action"], {"observation": observations})
    np.testing.assert_allclose(actions, expected, atol=1e-5)
    assert np.abs(actions).max() <= 2.0  # clipped to Pendulum's bounds as the agent clips them


def test_the_exported_policy_agrees_with_the_agent_beyond_ten_standard_deviations(tmp_path):
    """Finding 4: the export left out training's clip at +-10 std, so on CartPole (cart position std ~0.08: 10 std
    is inside its range) the ONNX policy disagreed with the agent's greedy action on 225 of 2,000 observations."""
    learner = build("ppo", {"env": "CartPole-v1", "normalize_observation": True})
    try:
        learner.envs.obs_rms.mean = np.array([0.0, 0.0, 0.0, 0.0])
        learner.envs.obs_rms.var = np.array([0.078, 0.5, 0.02, 0.4]) ** 2
        perturbed(learner.export_module(), seed=1)  # the export wraps the agent's own model: jitter it in place
        exportable = learner.export_module()
        path = tmp_path / "cartpole.onnx"
        write_onnx(exportable, path)
        generator = np.random.default_rng(0)
        std = np.sqrt(learner.envs.obs_rms.var)
        observations = (generator.uniform(-40, 40, (2000, 4)) * std).astype(np.float32)  # most beyond 10 std
        expected = learner.batched_policy(2000)(observations, np.ones(2000, dtype=bool))
    finally:
        learner.close()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (actions, _) = session.run(None, {"observation": observations})
    assert (np.abs(observations / std) > 10).any(axis=1).mean() > 0.5
    assert int((actions != expected).sum()) == 0


@pytest.mark.parametrize("memory", ["lstm", "gru"])
def test_a_recurrent_policy_carries_its_state_through_explicit_inputs_and_outputs(memory, tmp_path):
    learner = build("ppo", {"env": "gymforge/CartPoleNoVel-v0", "memory": memory, **RECURRENT})
    try:
        exportable = perturbed(learner.export_module())
        path = tmp_path / "recurrent.onnx"
        write_onnx(exportable, path)
        env = learner.make_env()
        observation, _ = env.reset(seed=0)
        policy = learner.policy()  # the agent's own stateful greedy policy
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        state_names = [name for name in exportable.input_names if name.startswith("state_")]
        state = {name: np.zeros((1, 1, learner.config.memory_size), np.float32) for name in state_names}
        for _ in range(30):
            outputs = dict(zip(exportable.output_names, session.run(
                None, {"observation": observation[None].astype(np.float32), **state})))
            action = policy(observation)
            assert int(outputs["action"][0]) == int(action)
            state = {name: outputs[f"next_{name}"] for name in state_names}
            observation, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                break
        env.close()
    finally:
        learner.close()
    assert state_names == (["state_h", "state_c"] if memory == "lstm" else ["state_h"])


def test_dict_observations_are_refused_in_one_line():
    from gymforge.agents.policy_export import observation_input

    with pytest.raises(ConfigError, match="Dict observations cannot be exported"):
        observation_input(gym.spaces.Dict({"x": gym.spaces.Box(0, 1, (2,))}), "ppo")


def one_line_error(capsys, *args):
    """Run the CLI in this process: exit status and the stderr lines of a refused command."""
    capsys.readouterr()  # what ran before (training lines) is not the command's output
    status = main(list(args))
    return status, capsys.readouterr().err.strip().splitlines()


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    run = api.train("ppo", env="CartPole-v1", preset="none", steps=512, n_steps=32, batch_size=64, eval_every=0,
                    eval_episodes=2, logdir=folder, name="p", progress_bar=False)
    return run.path


def test_export_command_writes_a_checked_onnx_file(ppo_run, tmp_path):
    result = gymforge("export", str(ppo_run), "--onnx", str(tmp_path / "policy.onnx"))  # a real process
    assert result.returncode == 0, result.stderr
    assert "onnxruntime matches PyTorch on 100 sample inputs" in result.stderr
    session = onnxruntime.InferenceSession(str(tmp_path / "policy.onnx"), providers=["CPUExecutionProvider"])
    action, log_probs = session.run(None, {"observation": np.zeros((3, 4), np.float32)})
    assert action.shape == (3,) and log_probs.shape == (3, 2)


@pytest.mark.parametrize("flags, fragment", [
    (["--out", "p.tflite"], "unknown export format 'tflite' (the suffix of p.tflite); gymforge exports: onnx"),
    (["--out", "p.bin", "--format", "coreml"], "unknown export format 'coreml'"),
    (["--onnx", "p.onnx", "--format", "coreml"], "--onnx writes ONNX"),
    ([], "give one of --onnx FILE or --out FILE"),
    (["--onnx", "p.onnx", "--check", "-1"], "--check must be >= 0"),
])
def test_export_mistakes_get_one_clear_line(ppo_run, flags, fragment, capsys):
    status, lines = one_line_error(capsys, "export", str(ppo_run), *flags)
    assert status == 2 and len(lines) == 1 and fragment in lines[0], lines


def test_export_of_a_run_without_checkpoint_gets_one_clear_line(ppo_run, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.yaml").write_text((ppo_run / "config.yaml").read_text())
    status, lines = one_line_error(capsys, "export", str(empty), "--onnx", str(tmp_path / "p.onnx"))
    assert status == 2 and len(lines) == 1 and "has no checkpoint to export" in lines[0], lines
    assert not (tmp_path / "p.onnx").exists()
    status, lines = one_line_error(capsys, "export", str(tmp_path / "missing"), "--onnx", str(tmp_path / "p.onnx"))
    assert status == 2 and len(lines) == 1 and "does not exist" in lines[0], lines


def test_an_algorithm_without_a_network_cannot_be_exported(tmp_path, capsys):
    run = api.train("qlearning", env="FrozenLake-v1", steps=1_000, eval_every=0, eval_episodes=2, logdir=tmp_path,
                    name="q", progress_bar=False)
    status, lines = one_line_error(capsys, "export", str(run.path), "--onnx", str(tmp_path / "q.onnx"))
    assert status == 2 and len(lines) == 1 and "qlearning runs cannot be exported" in lines[0], lines
