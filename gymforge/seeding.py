"""Seeding and device choice: the same seed gives the same run; RNG states travel in checkpoints."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from gymforge.errors import ConfigError


def seed_everything(seed: int) -> None:
    """Seed python, numpy's global RNG and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def stream_seed(seed: int, name: str, *index: int) -> int:
    """A seed for the named random stream `name` of a run seeded `seed`: independent of the run's own seed and of
    every other name, and the same on every machine (SeedSequence over the name's bytes, not Python's hash)."""
    key = (*name.encode(), *index)
    return int(np.random.SeedSequence(abs(int(seed)), spawn_key=key).generate_state(1, dtype=np.uint32)[0] >> 1)


def rng_state() -> dict[str, Any]:
    """The global RNG states as tensors and primitives (loadable with weights_only=True)."""
    _, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what rng_state() captured."""
    python = state["python"]
    random.setstate((python[0], tuple(python[1]), python[2]))
    numpy = state["numpy"]
    np.random.set_state(("MT19937", numpy["keys"].numpy().astype(np.uint32), numpy["position"],
                         numpy["has_gauss"], numpy["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def resolve_device(choice: str) -> torch.device:
    """auto -> cuda when available, else cpu; an explicit cuda without a GPU is the user's to fix."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for but no CUDA GPU is available; use --device cpu or auto")
    if choice not in ("cpu", "cuda"):
        raise ConfigError(f"--device must be auto, cpu or cuda, got {choice!r}")
    return torch.device(choice)


@contextlib.contextmanager
def own_rng(start: int | dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Inside the block python's, numpy's and torch's global RNGs are seeded with `start` (or set to a state
    rng_state() captured); after it the caller's states are back. The yielded dict receives the block's final
    states, so a later block can continue that stream: the Python API trains without reseeding the caller."""
    caller = rng_state()
    if isinstance(start, int):
        seed_everything(start)
    else:
        set_rng_state(start)
    final: dict[str, Any] = {}
    try:
        yield final
    finally:
        final.update(rng_state())
        set_rng_state(caller)
