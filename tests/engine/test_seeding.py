"""Named random streams: reproducible across processes, independent by name, index and seed, and below the
evaluation episodes' seed ranges."""

import os
import subprocess
import sys

import numpy as np
import torch
from gymforge.agents.episodes import episode_seeds

from gymforge.engine.seeding import FIXED, seed_stream, stream_seed
from tests.helpers import ROOT


def test_a_stream_is_the_same_in_another_process_with_another_hash_salt():
    here = [stream_seed(7, "augment"), stream_seed(FIXED, "data-split"), stream_seed(3, "collect", 12)]
    code = ("from gymforge.engine.seeding import FIXED, stream_seed; "
            "print(stream_seed(7, 'augment'), stream_seed(FIXED, 'data-split'), stream_seed(3, 'collect', 12))")
    env = {**os.environ, "PYTHONHASHSEED": "12", "PYTHONPATH": str(ROOT)}
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert [int(word) for word in there.stdout.split()] == here


def test_names_indices_and_seeds_give_other_streams_in_range():
    seeds = {stream_seed(seed, name, *index) for seed in range(20) for name in ("augment", "noise", "shift")
             for index in ((), (0,), (1,))}
    assert len(seeds) == 20 * 3 * 3  # no two collide
    assert all(0 <= seed < 2**30 <= min(episode_seeds(0, "validation", 1000)) for seed in seeds)
    assert stream_seed(5, "augment") == stream_seed(5, "augment")


def test_streams_are_uncorrelated_draws():
    """Torch generators seeded from neighbouring streams draw unrelated numbers (an offset seed of a weak RNG
    could not promise this; SeedSequence hashes the whole key)."""
    draws = [torch.randn(2000, generator=torch.Generator().manual_seed(stream_seed(0, name)))
             for name in ("noise", "shift", "augment")]
    correlation = np.corrcoef(torch.stack(draws).numpy())
    assert np.abs(correlation[np.triu_indices(3, 1)]).max() < 0.1
    words = seed_stream(0, "validation").generate_state(4)
    assert len(set(words.tolist())) == 4
