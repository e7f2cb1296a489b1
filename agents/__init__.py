"""Reinforcement-learning agents on gymforge's one Trainer. `from gymforge.agents import PPO` is the Python API
(gymforge/engine/estimator.py); each class is imported when first asked for, so the import stays light."""

from importlib import import_module
from typing import Any

from gymforge.engine.registry import ALGORITHMS

MODULES = {algorithm.learner_name: algorithm.module for algorithm in ALGORITHMS.values() if algorithm.kind == "agent"}
__all__ = sorted(MODULES)


def __getattr__(name: str) -> Any:
    if name not in MODULES:
        raise AttributeError(f"module 'gymforge.agents' has no attribute {name!r}")
    return getattr(import_module(MODULES[name]), name)
