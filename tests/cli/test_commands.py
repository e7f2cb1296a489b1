"""The commands a user runs after training: evaluate, watch, runs, list, board; and resume from the CLI."""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from gymforge.app.cli import main
from tests.helpers import ROOT, scalar_steps

SHORT = ["--steps", "4000", "--eval-every", "2000", "--checkpoint-every", "2000", "--eval-episodes", "10"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("runs")
    assert main(["train", "qlearning", "--env", "FrozenLake-v1", *SHORT, "--logdir", str(logdir), "--name", "fl"]) == 0
    return logdir


def test_evaluate_json_last_line_is_one_object(trained, capsys):
    assert main(["evaluate", str(trained / "fl"), "--episodes", "30", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["episodes"] == 30 and 0.0 <= figures["success_rate"] <= 1.0
    assert figures["mean_return"] == figures["success_rate"]  # FrozenLake pays 1 for success only


def test_watch_records_a_gif_headless(trained, tmp_path, capsys):
    out = tmp_path / "episode.gif"
    assert main(["watch", str(trained / "fl"), "--episodes", "1", "--record", str(out)]) == 0
    assert out.read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    assert "episode 1: return" in capsys.readouterr().out


def test_runs_table_and_json(trained, capsys):
    assert main(["runs", "--logdir", str(trained)]) == 0
    table = capsys.readouterr().out
    assert "fl" in table and "qlearning" in table and "finished" in table
    assert main(["runs", "--logdir", str(trained), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["steps"] == 4000 and rows[0]["status"] == "finished" and rows[0]["best_eval"] is not None


def test_list_names_the_algorithms_and_their_presets(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "qlearning" in out and "FrozenLake-v1" in out and "CartPole-v1" in out


def test_resume_from_the_cli_extends_the_run(tmp_path):
    args = ["--logdir", str(tmp_path), "--name", "r"]
    assert main(["train", "qlearning", "--env", "FrozenLake-v1", *SHORT, *args]) == 0
    assert main(["train", "--resume", str(tmp_path / "r"), "--steps", "8000"]) == 0
    assert scalar_steps(tmp_path / "r", "eval/mean_return") == [2000, 4000, 6000, 8000]


def test_config_file_repeats_a_run_and_flags_override_it(tmp_path, capsys):
    assert main(["train", "qlearning", "--env", "FrozenLake-v1", *SHORT, "--gamma", "0.9", "--logdir", str(tmp_path),
                 "--name", "a"]) == 0
    assert main(["train", "--config", str(tmp_path / "a" / "config.yaml"), "--seed", "3", "--logdir", str(tmp_path),
                 "--name", "b"]) == 0
    text = (tmp_path / "b" / "config.yaml").read_text()
    assert "gamma: 0.9" in text and "seed: 3" in text and "steps: 4000" in text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_board_starts_tensorboard_and_prints_its_address(trained):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gymforge", "board", "--logdir", str(trained), "--port",
                                str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert f"http://localhost:{port}/" in process.stdout.readline()
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=2) as response:
                    assert "fl" in response.read().decode()
                    break
            except OSError:
                assert time.time() < deadline and process.poll() is None, "TensorBoard did not answer"
                time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=30)
    deadline = time.time() + 15  # terminating `gymforge board` stops TensorBoard too (it was once left running)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=1).close()
        except OSError:
            break
        assert time.time() < deadline, "TensorBoard outlived `gymforge board`"
        time.sleep(0.5)


def test_collect_writes_frames_from_a_random_and_from_a_trained_policy(trained, tmp_path):
    from gymforge.envs import load_frames

    assert main(["collect", "--env", "FrozenLake-v1", "--frames", "12", "--size", "16", "--out",
                 str(tmp_path / "random.npz")]) == 0
    assert load_frames(tmp_path / "random.npz").shape == (12, 16, 16, 3)
    assert main(["collect", "--env", "FrozenLake-v1", "--frames", "5", "--size", "8", "--policy", str(trained / "fl"),
                 "--out", str(tmp_path / "trained.npz")]) == 0
    assert load_frames(tmp_path / "trained.npz").shape == (5, 8, 8, 3)


def test_collect_bad_input_is_one_line(tmp_path, capsys):
    assert main(["collect", "--env", "CartPole-v1", "--frames", "0", "--out", str(tmp_path / "x.npz")]) == 2
    assert capsys.readouterr().err.strip() == "gymforge: error: The number of frames must be positive, got 0."


def test_grid_worlds_log_the_greedy_policy_image(trained):
    from tests.helpers import event_tags

    assert "eval/greedy_policy" in event_tags(trained / "fl")["images"]


def test_the_default_environment_gets_its_preset_too():
    from gymforge.app.api import make_config

    assert make_config("qlearning", {}).eval_episodes == 1000  # FrozenLake-v1's preset
    assert make_config("qlearning", {}, preset="none").eval_episodes == 100


def test_a_named_preset_without_env_brings_its_environment():
    from gymforge.app.api import make_config

    config = make_config("qlearning", {}, preset="Taxi-v4")
    assert config.env == "Taxi-v4" and config.learning_rate == 0.5
    continuous = make_config("ppo", {}, preset="LunarLanderContinuous-v3")
    assert continuous.env == "LunarLander-v3"
