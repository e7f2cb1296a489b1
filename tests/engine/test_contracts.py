"""Each contract of gymforge/learner.py, met by the smallest fake learner of its kind, through the real CLI:
train, evaluate, watch or sample, and resume. Also the Trainer-owned schedule, --stop-at and evaluation videos."""

from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gymforge.app.cli import main
from gymforge.engine import registry
from gymforge.engine.learner import Agent, Generator, Learner
from gymforge.engine.run import Run
from tests.engine.fake_learners import FAKES, LEARNS_AT, FakeAgent, FakeAgentConfig, FakeGenerator


@pytest.fixture(autouse=True)
def fakes_registered(monkeypatch):
    for algorithm in FAKES:
        monkeypatch.setitem(registry.ALGORITHMS, algorithm.name, algorithm)
    FakeAgent.limits.clear()


def summary(run_dir) -> dict:
    return Run(run_dir, "").read_summary()


def images(run_dir, tag: str) -> list:
    accumulator = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    accumulator.Reload()
    return accumulator.Images(tag) if tag in accumulator.Tags()["images"] else []


def test_the_fakes_meet_their_contracts():
    agent, generator = FakeAgent(FakeAgentConfig()), FakeGenerator(FAKES[1].load()[1]())
    assert isinstance(agent, Agent) and isinstance(agent, Learner) and not isinstance(agent, Generator)
    assert isinstance(generator, Generator) and isinstance(generator, Learner) and not isinstance(generator, Agent)


def test_an_agent_trains_evaluates_is_watched_and_resumes(tmp_path, capsys):
    run = tmp_path / "a"
    assert main(["train", "fake-agent", "--name", "a", "--logdir", str(tmp_path)]) == 0
    assert summary(run)["status"] == "finished" and summary(run)["progress"] == 600
    assert summary(run)["final_eval"]["split"] == "test"
    capsys.readouterr()

    assert main(["evaluate", str(run), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["split"] == "test" and figures["mean_return"] > 100  # the rule balances the pole

    gif = tmp_path / "episode.gif"
    assert main(["watch", str(run), "--episodes", "1", "--record", str(gif)]) == 0
    assert gif.stat().st_size > 0 and "episode 1: return" in capsys.readouterr().out

    assert main(["train", "--resume", str(run), "--steps", "800"]) == 0
    assert summary(run)["status"] == "finished" and summary(run)["progress"] == 800


def test_a_generator_trains_evaluates_samples_and_resumes(tmp_path, capsys):
    run = tmp_path / "g"
    assert main(["train", "fake-generator", "--name", "g", "--logdir", str(tmp_path)]) == 0
    first = summary(run)
    assert first["status"] == "finished" and first["score_key"] == "error"
    assert main(["evaluate", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["error"] < 1

    one, two = tmp_path / "one.png", tmp_path / "two.png"
    assert main(["sample", str(run), "--n", "8", "--seed", "3", "--out", str(one)]) == 0
    assert main(["sample", str(run), "--n", "8", "--seed", "3", "--out", str(two), "--scale", "1"]) == 0
    assert one.stat().st_size > 0 and two.stat().st_size > 0
    assert len(images(run, "samples/grid")) == 3  # one grid per evaluation, through Learner.log_media

    assert main(["train", "--resume", str(run), "--steps", "1000"]) == 0
    assert summary(run)["progress"] >= 1000 and summary(run)["best_selection_score"] < first["best_selection_score"]


def test_each_command_refuses_a_run_of_the_other_kind_in_one_line(tmp_path, capsys):
    assert main(["train", "fake-agent", "--name", "a", "--logdir", str(tmp_path), "--steps", "200"]) == 0
    assert main(["train", "fake-generator", "--name", "g", "--logdir", str(tmp_path), "--steps", "200"]) == 0
    capsys.readouterr()
    assert main(["sample", str(tmp_path / "a")]) == 2
    assert main(["watch", str(tmp_path / "g")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2
    assert "fake-agent agent run" in errors[0] and "gymforge watch" in errors[0]
    assert "fake-generator generative run" in errors[1] and "gymforge sample" in errors[1]


def test_the_trainer_owns_the_schedule(tmp_path):
    """The Trainer tells a learner how far it may go: evaluations and checkpoints land on their boundaries though
    the learner's own chunk (100 steps) divides neither."""
    assert main(["train", "fake-agent", "--name", "s", "--logdir", str(tmp_path), "--steps", "500",
                 "--eval-every", "250", "--checkpoint-every", "150", "--no-eval-video"]) == 0
    assert FakeAgent.limits == [150, 150, 250, 300, 450, 450, 500]  # 100-step chunks, cut at each boundary
    accumulator = EventAccumulator(str(tmp_path / "s"), size_guidance={"scalars": 0})
    accumulator.Reload()
    assert [event.step for event in accumulator.Scalars("eval/mean_return")] == [250, 500]


def test_stop_at_stops_at_the_first_evaluation_that_reaches_the_score(tmp_path, capsys):
    run = tmp_path / "stop"
    assert main(["train", "fake-agent", "--name", "stop", "--logdir", str(tmp_path), "--steps", "2000",
                 "--eval-every", "100", "--stop-at", "100", "--no-eval-video"]) == 0
    assert summary(run)["status"] == "stopped"
    assert summary(run)["progress"] == LEARNS_AT  # evaluations at 100 and 200 return ~9; the one at 300 balances
    assert f"reached --stop-at 100 at step {LEARNS_AT}" in capsys.readouterr().err
    assert Run(run, "fake-agent").checkpoint("last").exists()


def test_stop_at_for_a_score_to_minimize_means_at_most(tmp_path):
    assert main(["train", "fake-generator", "--name", "m", "--logdir", str(tmp_path), "--steps", "5000",
                 "--eval-every", "640", "--stop-at", "0.5"]) == 0
    assert summary(tmp_path / "m")["status"] == "stopped" and summary(tmp_path / "m")["progress"] == 1280  # error 0.61 at 640


def test_an_agent_run_logs_an_episode_video_at_each_evaluation(tmp_path):
    run = tmp_path / "v"
    assert main(["train", "fake-agent", "--name", "v", "--logdir", str(tmp_path)]) == 0
    videos = images(run, "eval/episode")
    assert [video.step for video in videos] == [200, 400, 600]
    assert all(video.encoded_image_string[:6] == b"GIF89a" for video in videos)  # animated GIFs TensorBoard plays
    assert all(max(video.width, video.height) <= 160 for video in videos)  # shrunk: cheap to store and encode


def test_two_default_named_runs_in_the_same_second_get_two_folders(tmp_path, monkeypatch):
    import datetime as real

    import gymforge.engine.run

    class Frozen(real.datetime):
        @classmethod
        def now(cls, tz=None):
            return real.datetime(2026, 11, 22, 0, 0, 0)

    monkeypatch.setattr(gymforge.engine.run, "datetime", Frozen)
    first = Run.create("fake-agent", FakeAgentConfig(), tmp_path)
    second = Run.create("fake-agent", FakeAgentConfig(), tmp_path)
    assert first.path.name == "fake-agent-CartPole-v1-20261122-000000"
    assert second.path.name == "fake-agent-CartPole-v1-20261122-000000-2"
