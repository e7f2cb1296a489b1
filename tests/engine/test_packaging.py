"""gymforge installs one import package: a user's own `envs/`, `agents/` or `networks/` never collides with ours.

Before the namespace move the wheel put `agents`, `envs`, `networks` and `generative` at the top of
site-packages, and a project with its own `envs/__init__.py` broke `from agents import PPO`.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.helpers import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # no build isolation: the venv already has setuptools (tensorboard needs it), and tests never download
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                            "--quiet", "--wheel-dir", str(out)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    (path,) = out.glob("gymforge-*.whl")
    return path


def test_the_wheel_holds_one_import_package(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"gymforge"}
    # the folders the repository keeps at its root are mapped into the namespace, data files included
    for path in ("gymforge/agents/ppo.py", "gymforge/envs/make.py", "gymforge/networks/mlp.py",
                 "gymforge/generative/vae.py", "gymforge/engine/trainer.py", "gymforge/app/cli.py",
                 "gymforge/agents/presets/ppo.yaml", "gymforge/generative/search/vae.yaml"):
        assert path in names


def test_a_user_project_with_its_own_envs_agents_and_networks(wheel, tmp_path):
    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                                str(site), str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-2000:]
    project = tmp_path / "project"
    for package in ("envs", "agents", "networks"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text(f"WHOSE = 'the user\\'s {package}'\n")
    code = """
import envs, agents, networks
from gymforge import PPO
from gymforge.envs import make_env
import gymforge.agents, gymforge.networks
assert envs.WHOSE == "the user's envs" and agents.WHOSE == "the user's agents", (envs, agents)
assert networks.WHOSE == "the user's networks"
assert PPO.__module__ == "gymforge.agents.ppo" and gymforge.agents.__file__.startswith(SITE)
env = make_env("CartPole-v1")
assert env.reset(seed=0)[0].shape == (4,)
print("ok")
""".replace("SITE", repr(str(site)))
    result = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True,
                            env={"PYTHONPATH": f"{project}:{site}", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"
