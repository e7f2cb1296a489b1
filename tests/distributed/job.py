"""Run by torchrun in the distributed tests: `gymforge train ...` exactly as the CLI runs it, plus each rank's
final learner state (and pid) written to $GYMFORGE_TEST_DUMP so a test can compare the ranks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from gymforge.app.cli import main
from gymforge.engine.trainer import Trainer

dump = Path(os.environ["GYMFORGE_TEST_DUMP"])
rank = os.environ.get("RANK", "0")
(dump / f"pid-{rank}").write_text(str(os.getpid()))
fit = Trainer.fit


def fit_and_dump(self: Trainer, *args, **kwargs):
    summary = fit(self, *args, **kwargs)
    torch.save(self.learner.state_dict(), dump / f"rank-{rank}.pt")
    return summary


Trainer.fit = fit_and_dump
sys.exit(main(sys.argv[1:]))
