"""A run on disk, laid out by this class alone:
  config.yaml              the resolved config (`--resume` and `gymforge evaluate` read it back)
  summary.json             status, progress, the best selection score, the final test figures
  events.out.tfevents.*    TensorBoard: scalars, hyperparameters, sample grids, episode videos
  checkpoints/             last.pt, best.pt and step-NNNNNNNNN.pt (--keep-every)
  samples/                 a generator's sample grid at each evaluation, as PNG (made on first write)
"""

from __future__ import annotations

import json
import os
import platform
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gymforge.engine.config import TrainConfig, read_config_file, save_config
from gymforge.engine.errors import CheckpointError

CHECKPOINTS = "checkpoints"
SAMPLES = "samples"


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """JSON written to a temp file then renamed, so a killed process never leaves half a summary."""
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle, indent=2, default=str)
    os.replace(temp_name, path)


def versions() -> dict[str, str]:
    import gymnasium
    import numpy
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__,
            "gymnasium": gymnasium.__version__, "numpy": numpy.__version__}


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Run:
    """One run folder. Create with Run.create (new) or Run.open (existing, e.g. to resume or evaluate)."""

    path: Path
    algo: str

    @classmethod
    def create(cls, algo: str, config: TrainConfig, logdir: Path | str = "runs", name: str | None = None) -> Run:
        path = Path(logdir) / (name or f"{algo}-{config.subject.replace('/', '_')}-{datetime.now():%Y%m%d-%H%M%S}")
        if name is None:  # two default-named runs in the same second (a notebook's loop): -2, -3, ...
            path = next(candidate for candidate in (path.with_name(f"{path.name}-{n}") if n > 1 else path
                                                    for n in range(1, 10_000)) if not candidate.exists())
        if (path / "config.yaml").exists():
            raise CheckpointError(f"run folder {path} already exists; pick another --name or --resume {path}")
        (path / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        save_config(path / "config.yaml", algo, config)
        run = cls(path, algo)
        run.write_summary({"algo": algo, "subject": config.subject, "status": "running", "progress": 0,
                           "steps": config.steps, "wall_clock_s": 0.0, "started": time.time()})
        return run

    @classmethod
    def open(cls, path: Path | str) -> tuple[Run, dict[str, Any]]:
        """Open an existing run folder; returns the run and the raw config values."""
        path = Path(path)
        if not path.is_dir():
            raise CheckpointError(f"run folder {path} does not exist (see `gymforge runs` for the runs you have)")
        if not (path / "config.yaml").is_file():
            raise CheckpointError(f"{path} is not a gymforge run folder (it has no config.yaml)")
        algo, values = read_config_file(path / "config.yaml")
        if not algo:
            raise CheckpointError(f"{path / 'config.yaml'} does not name its algorithm (an 'algo:' line)")
        return cls(path, algo), values

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS

    @property
    def samples(self) -> Path:
        """Where the Logger writes media files (image(..., save_png=True))."""
        return self.path / SAMPLES

    def checkpoint(self, which: str = "last") -> Path:
        """checkpoints/WHICH.pt; `step-N` also finds the zero-padded step-00000000N.pt the Trainer writes."""
        path = self.checkpoints / f"{which}.pt"
        match = re.fullmatch(r"step-0*(\d+)", which)
        if not path.is_file() and match:
            padded = self.checkpoints / f"step-{int(match.group(1)):09d}.pt"
            if padded.is_file():
                return padded
        return path

    def read_summary(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / "summary.json").read_text())
        except (OSError, ValueError):
            return {}

    def write_summary(self, updates: dict[str, Any]) -> dict[str, Any]:
        summary = {**self.read_summary(), **updates, "updated": time.time(), "pid": os.getpid(),
                   "versions": versions()}
        write_json_atomic(self.path / "summary.json", summary)
        return summary

    def status(self) -> str:
        """running / finished / interrupted / failed; a 'running' run whose process is gone was interrupted."""
        summary = self.read_summary()
        status = summary.get("status", "unknown")
        if status == "running" and not pid_alive(int(summary.get("pid", -1))):
            return "interrupted"
        return status
