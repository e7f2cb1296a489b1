"""Seeding and device choice: the same seed gives the same run; RNG states travel in checkpoints.

Every random stream other than the global RNGs is named: stream_seed(config.seed, "augment") rather than
config.seed + 1, so streams never overlap by accident and a reader sees what each is for. Streams that must
be the same for every training seed (the data split, the evaluated binarization) hang off the FIXED root."""

from __future__ import annotations

import contextlib
import random
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from gymforge.engine.errors import ConfigError

FIXED = 0
"""The root of the streams every training seed shares: stream_seed(FIXED, "data-split")."""


def seed_stream(seed: int, name: str, *index: int) -> np.random.SeedSequence:
    """The random stream `name` of a run seeded `seed`, numbered by `index` (an iteration, a split): numpy's
    SeedSequence with the name's CRC-32 in its spawn key, so each name is an independent stream and the same
    call gives the same stream on every machine and Python (unlike hash(), which is salted per process)."""
    return np.random.SeedSequence(abs(int(seed)), spawn_key=(zlib.crc32(name.encode()), *index))


def stream_seed(seed: int, name: str, *index: int) -> int:
    """One integer seed of that stream in [0, 2^30), for torch.Generator.manual_seed, env.reset(seed=...) or
    numpy's default_rng: below the evaluation episodes' seeds, which lie in [2^30, 2^32) (agents.episodes)."""
    return int(seed_stream(seed, name, *index).generate_state(1, dtype=np.uint32)[0]) & (2**30 - 1)


def seed_everything(seed: int) -> None:
    """Seed python, numpy's global RNG and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


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


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Inside the block torch runs on `count` threads; after it the caller's count is back. A thread count, like
    a seed, changes a run's floating-point path."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
