"""gymforge: reinforcement learning and generative models around Gymnasium environments, on one trainer.

    from gymforge import PPO, VAE
    agent = PPO("CartPole-v1", seed=0).learn(50_000)

The parts: `gymforge.networks` (PyTorch building blocks) < `gymforge.envs` (environments and the observation
pipeline) < `gymforge.engine` (trainer, run folders, checkpoints, logging, seeding, the learner contracts) <
`gymforge.agents` | `gymforge.generative` (the algorithms) < `gymforge.app` (CLI, Python API, tune, export).
Each algorithm class is imported when first asked for, so `import gymforge` stays light.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from gymforge.app import algorithms as _algorithms  # registers every algorithm by name (import paths only)

try:
    __version__ = version("gymforge")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

_CLASSES = {algorithm.learner_name: algorithm.module for algorithm in _algorithms.ALGORITHMS}
__all__ = sorted(_CLASSES)


def __getattr__(name: str) -> Any:
    if name not in _CLASSES:
        raise AttributeError(f"module 'gymforge' has no attribute {name!r}")
    return getattr(import_module(_CLASSES[name]), name)
