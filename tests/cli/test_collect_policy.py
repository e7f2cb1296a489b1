"""`gymforge collect --policy RUN`: a trained agent plays, and a recurrent one starts every episode afresh."""

import numpy as np

from gymforge.app import api
from gymforge.app.cli import main


def test_collect_gives_a_recurrent_policy_a_fresh_memory_every_episode(tmp_path, monkeypatch):
    """Regression: one policy (one LSTM state) played every episode, so memory leaked across resets."""
    assert main(["train", "ppo", "--env", "gymforge/TMaze-v0", "--steps", "512", "--n-envs", "2", "--n-steps",
                 "32", "--batch-size", "64", "--eval-every", "0", "--logdir", str(tmp_path), "--name", "t"]) == 0
    from gymforge.agents.ppo import PPO

    made = []
    original = PPO.policy

    def counting_policy(self):
        made.append(1)
        return original(self)

    monkeypatch.setattr(PPO, "policy", counting_policy)
    out = tmp_path / "frames.npz"
    assert main(["collect", "--env", "gymforge/TMaze-v0", "--frames", "60", "--out", str(out), "--size", "16",
                 "--policy", str(tmp_path / "t")]) == 0
    frames = np.load(out)["frames"]
    assert frames.shape[0] == 60
    assert len(made) >= 5  # TMaze episodes last a few steps: 60 frames hold many episodes, each a fresh policy
    assert api.load_learner(tmp_path / "t").model.recurrent
