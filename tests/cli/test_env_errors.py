"""envs' user mistakes reach the user as one line from the real command line."""

import os

from tests.cli.test_bad_input import assert_one_line_error
from tests.helpers import gymforge


def test_unknown_environment_in_collect(tmp_path):
    result = gymforge("collect", "--env", "CartPol-v1", "--frames", "10", "--out", str(tmp_path / "f.npz"))
    assert_one_line_error(result, "Unknown environment id", "CartPole-v1")


def test_atari_without_the_extra_names_the_extra(tmp_path):
    stub = tmp_path / "stub" / "ale_py"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('No module named ale_py')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'stub'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = gymforge("collect", "--env", "ALE/Pong-v5", "--frames", "10", "--out", str(tmp_path / "f.npz"), env=env)
    assert_one_line_error(result, "pip install 'gymforge[atari]'")


def test_frame_count_must_be_positive(tmp_path):
    result = gymforge("collect", "--env", "CartPole-v1", "--frames", "-3", "--out", str(tmp_path / "f.npz"))
    assert_one_line_error(result, "must be positive")
