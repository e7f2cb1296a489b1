"""Trainer(on_evaluate=...): sees every evaluation, and returning True stops the run cleanly (tuning's pruner)."""

from gymforge.app import api
from gymforge.engine.checkpoint import load_checkpoint
from gymforge.engine.run import Run
from gymforge.engine.trainer import Trainer

FAST = {"env": "FrozenLake-v1", "steps": 10_000, "eval_every": 2_000, "checkpoint_every": 10_000,
        "eval_episodes": 5, "log_every": 1_000}


def train_with(callback, tmp_path, name):
    config = api.make_config("qlearning", FAST)
    run = Run.create("qlearning", config, tmp_path, name)
    summary = Trainer(api.build_learner("qlearning", config), run, progress_bar=False, on_evaluate=callback).fit()
    return run, summary


def test_on_evaluate_sees_every_evaluation_and_a_none_answer_runs_to_the_end(tmp_path):
    seen = []
    run, summary = train_with(lambda progress, figures: seen.append((progress, figures["mean_return"])), tmp_path, "a")
    assert [progress for progress, _ in seen] == [2_000, 4_000, 6_000, 8_000, 10_000]
    assert summary["status"] == "finished" and summary["progress"] == 10_000


def test_on_evaluate_returning_true_stops_the_run_with_a_checkpoint(tmp_path):
    seen = []

    def stop_at_second(progress, figures):
        seen.append(progress)
        return len(seen) == 2

    run, summary = train_with(stop_at_second, tmp_path, "b")
    assert seen == [2_000, 4_000]
    assert summary["status"] == "stopped" and summary["progress"] == 4_000
    assert load_checkpoint(run.checkpoint("last"))["progress"] == 4_000
