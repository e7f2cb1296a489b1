"""Small helpers shared by tests: read TensorBoard event files, run the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ROOT = Path(__file__).resolve().parents[1]

SEED_SHIFT_VARIABLE = "GYMFORGE_TEST_SEED_SHIFT"


def shifted_seed(base: int) -> int:
    """The seed a slow learning check uses: `base` plus $GYMFORGE_TEST_SEED_SHIFT (default 0).

    Shifting every seed at once is how this machine shows what another CPU would: a seeded RL run there takes
    another path, so a check must hold for any shift, not only for the seeds it was written with.
    """
    return base + int(os.environ.get(SEED_SHIFT_VARIABLE, "0"))


def scalar_steps(run_dir: Path, tag: str) -> list[int]:
    """Steps of one scalar tag across every event file of a run (purged events removed, as TensorBoard shows)."""
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return [event.step for event in accumulator.Scalars(tag)]


def scalar_values(run_dir: Path, tag: str) -> list[tuple[int, float]]:
    """(step, value) of one scalar tag across every event file of a run, in step order."""
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return sorted((event.step, event.value) for event in accumulator.Scalars(tag))


def event_tags(run_dir: Path) -> dict[str, list[str]]:
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return accumulator.Tags()


def gymforge(*args: str, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run `python -m gymforge ARGS` as a user would, capturing output."""
    env = kwargs.pop("env", None) or dict(os.environ)
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(ROOT)])),
           "SDL_VIDEODRIVER": "dummy"}
    return subprocess.run([sys.executable, "-m", "gymforge", *args], check=False, cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=kwargs.pop("timeout", 300), **kwargs)


def load_example(path: str):
    """A file of examples/ (not part of the gymforge package) as a module, e.g. "seq2seq/recurrent.py"."""
    import importlib.util

    name = "example_" + path.removesuffix(".py").replace("/", "_")
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
