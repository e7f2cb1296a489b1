import pickle

import pytest
import torch

from gymforge.engine.checkpoint import load_checkpoint, save_checkpoint
from gymforge.engine.errors import CheckpointError


def test_round_trip_keeps_tensors_and_plain_data(tmp_path):
    state = {"weights": torch.arange(6.0).reshape(2, 3), "step": 5, "rng": (3, (1, 2), None), "name": "x"}
    save_checkpoint(tmp_path / "last.pt", state)
    loaded = load_checkpoint(tmp_path / "last.pt")
    assert torch.equal(loaded["weights"], state["weights"])
    assert loaded["step"] == 5 and loaded["rng"] == (3, (1, 2), None)
    assert list(tmp_path.iterdir()) == [tmp_path / "last.pt"]  # no temp file left behind


def test_a_failed_write_leaves_the_old_checkpoint_whole(tmp_path):
    save_checkpoint(tmp_path / "last.pt", {"step": 1})

    class Unsaveable:
        def __reduce__(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_checkpoint(tmp_path / "last.pt", {"step": 2, "bad": Unsaveable()})
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 1
    assert list(tmp_path.iterdir()) == [tmp_path / "last.pt"]


def test_missing_and_corrupt_checkpoints_are_user_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    save_checkpoint(tmp_path / "last.pt", {"step": 1})
    data = (tmp_path / "last.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(tmp_path / "cut.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "text.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a gymforge checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")


class Exploit:
    """Unpickling this would run code: it creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_checkpoint_crafted_to_run_code_is_refused_and_the_code_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    with open(tmp_path / "evil.pt", "wb") as handle:
        torch.save({"format": "gymforge-checkpoint-1", "payload": Exploit(marker)}, handle)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not marker.exists()
    # A raw pickle (not even torch's zip format) is refused too.
    (tmp_path / "raw.pt").write_bytes(pickle.dumps(Exploit(marker)))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "raw.pt")
    assert not marker.exists()
