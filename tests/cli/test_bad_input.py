"""Every user mistake: one line on stderr, a non-zero exit, never a traceback (real subprocesses)."""

import pytest
import torch

from tests.helpers import gymforge


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("args, fragments", [
    (["train", "qlearning", "--env", "FrozenLak-v1"], ["Unknown environment id", "FrozenLake-v1"]),
    (["train", "qlearning", "--env", "Pendulum-v1"], ["needs a Discrete action space", "ppo"]),
    (["train", "qlearning", "--env", "CartPole-v1", "--preset", "none"], ["discretize it with --bins"]),
    (["train", "qlearning", "--learning-rate", "-0.1"], ["--learning-rate must be in (0, 1]"]),
    (["train", "qlearning", "--epsilon", "1.5"], ["--epsilon must be in [0, 1]"]),
    (["train", "qlearing"], ["unknown algorithm 'qlearing'", "qlearning"]),
    (["train", "qlearning", "--env", "FrozenLake-v1", "--preset", "Taxi-v4"], ["tuned for Taxi-v4"]),
    (["evaluate", "does/not/exist"], ["does not exist"]),
    (["train", "vae", "--env", "CartPole-v1"], ["vae trains on --data, not --env"]),
    (["train", "--resume", "runs/x", "--env", "CartPole-v1"], ["only --steps may be given", "--env"]),
])
def test_bad_input_gets_one_clear_line(args, fragments, tmp_path):
    assert_one_line_error(gymforge(*args, "--logdir", str(tmp_path)) if args[0] == "train" else gymforge(*args),
                          *fragments)


@pytest.fixture()
def run_dir(tmp_path):
    result = gymforge("train", "qlearning", "--env", "FrozenLake-v1", "--steps", "2000", "--eval-every", "1000",
                      "--logdir", str(tmp_path), "--name", "r")
    assert result.returncode == 0, result.stderr
    return tmp_path / "r"


def test_missing_run_folder_parts_and_corrupt_checkpoints(run_dir, tmp_path):
    (tmp_path / "empty").mkdir()
    assert_one_line_error(gymforge("evaluate", str(tmp_path / "empty")), "not a gymforge run folder")
    assert_one_line_error(gymforge("evaluate", str(run_dir), "--checkpoint", "nope"), "does not exist")
    best = run_dir / "checkpoints" / "best.pt"
    best.write_bytes(best.read_bytes()[:100])
    assert_one_line_error(gymforge("evaluate", str(run_dir)), "corrupt")
    (run_dir / "config.yaml").write_text("algo: qlearning\nlearnin_rate: [")
    assert_one_line_error(gymforge("evaluate", str(run_dir)), "not valid YAML")


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_checkpoint_crafted_to_run_code_is_refused_and_the_code_does_not_run(run_dir, tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"format": "gymforge-checkpoint-1", "learner": Exploit(marker)}, run_dir / "checkpoints" / "best.pt")
    assert_one_line_error(gymforge("evaluate", str(run_dir)), "refused to load")
    assert not marker.exists()
