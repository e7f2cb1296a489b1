"""The evaluation protocol: disjoint validation/test episode streams, batched vector-env play that matches
one-by-one play, intervals that hold, and the Trainer's final test evaluation of the last policy."""

import json

import gymnasium as gym
import numpy as np
import pytest
from gymforge.agents.episodes import (
    MAX_STEPS_WITHOUT_LIMIT,
    EpisodeResult,
    episode_seeds,
    play_batched,
    play_episodes,
    step_cap,
    t_quantile,
    wilson_interval,
)
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from gymforge.app import api
from gymforge.app.cli import main
from gymforge.engine.errors import ConfigError
from tests.helpers import gymforge


def test_validation_and_test_streams_are_disjoint_fixed_and_apart_from_training_seeds():
    validation, test = episode_seeds(0, "validation", 5_000), episode_seeds(0, "test", 5_000)
    assert not set(validation) & set(test)
    assert validation == episode_seeds(0, "validation", 5_000)  # the same episodes at every evaluation
    assert episode_seeds(1, "test", 100) != test[:100]  # another seed, other episodes
    assert min(validation + test) >= 2**30  # training seeds are config.seed + i
    with pytest.raises(ConfigError, match="split"):
        episode_seeds(0, "train", 3)


def balance(observations, starts):
    return (np.asarray(observations)[:, 2] > 0).astype(np.int64)  # push towards the pole's lean


def test_batched_play_plays_each_seed_exactly_as_one_env_would():
    seeds = episode_seeds(3, "test", 7)
    envs = SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 3, autoreset_mode=AutoresetMode.DISABLED)
    batched = play_batched(envs, balance, seeds)
    envs.close()
    env = gym.make("CartPole-v1")
    single = [play_episodes(env, lambda: (lambda o: int(o[2] > 0)), 1, seed).returns[0] for seed in seeds]
    assert batched.returns == single and len(set(single)) > 1  # seed order kept, episodes really differ


def test_batched_recurrent_policy_forgets_at_every_episode_start():
    """A memory carried from one episode into the next would make the batched returns differ from fresh ones."""
    agent = api.build_learner("ppo", api.make_config("ppo", {"env": "gymforge/TMaze-v0", "eval_episodes": 12,
                                                             "n_envs": 2, "n_steps": 32, "batch_size": 64}))
    agent.train_step()
    seeds = episode_seeds(0, "validation", 12)
    envs = SyncVectorEnv([agent.make_env] * 5, autoreset_mode=AutoresetMode.DISABLED)
    batched = play_batched(envs, agent.batched_policy(5), seeds)
    envs.close()
    env = agent.make_env()
    single = [play_episodes(env, agent.policy, 1, seed).returns[0] for seed in seeds]
    assert batched.returns == single
    assert agent.evaluate()["episodes"] == 12
    agent.close()


def test_intervals_match_their_textbook_values():
    from scipy import stats

    for dof in (1, 4, 19, 30, 31, 99, 999):
        assert t_quantile(dof) == pytest.approx(stats.t.ppf(0.975, dof), abs=2e-4)
    assert wilson_interval(3, 10) == pytest.approx((0.1078, 0.6032), abs=1e-4)
    assert wilson_interval(0, 100)[0] == 0.0 and wilson_interval(100, 100)[1] == 1.0
    figures = EpisodeResult(returns=[1.0, 2.0, 3.0, 4.0], lengths=[1] * 4).figures()
    half = stats.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2
    assert figures["mean_return_ci95_low"] == pytest.approx(2.5 - half, abs=1e-3)
    assert figures["mean_return_ci95_high"] == pytest.approx(2.5 + half, abs=1e-3)


def test_only_envs_without_a_time_limit_are_capped():
    assert step_cap(gym.make("CliffWalking-v1")) == MAX_STEPS_WITHOUT_LIMIT
    assert step_cap(gym.make("CartPole-v1")) is None


def test_frozenlake_evaluate_reports_an_interval_around_the_true_rate_not_the_selection_score(tmp_path, capsys):
    """Must show: the test-split interval of `gymforge evaluate` holds the policy's success rate, estimated here
    from 20,000 episodes, and its figure is not the selection score that chose best.pt."""
    assert main(["train", "qlearning", "--env", "FrozenLake-v1", "--steps", "100000", "--eval-every", "25000",
                 "--logdir", str(tmp_path), "--name", "lake"]) == 0
    summary = json.loads((tmp_path / "lake" / "summary.json").read_text())
    assert summary["final_eval"]["split"] == "test" and summary["final_eval"]["checkpoint"] == "last"
    assert summary["final_eval"]["episodes"] == 1000
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "lake"), "--episodes", "1000", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["split"] == "test" and figures["episodes"] == 1000
    agent = api.load_learner(tmp_path / "lake", eval_episodes=20_000, seed=12345)  # episodes nobody has seen
    true_rate = agent.evaluate("test")["success_rate"]
    agent.close()
    assert 0.6 < true_rate < 0.8  # a trained policy, so the interval below is not trivially wide
    assert figures["success_rate_ci95_low"] <= true_rate <= figures["success_rate_ci95_high"], (figures, true_rate)
    assert figures["success_rate_ci95_high"] - figures["success_rate_ci95_low"] < 0.07
    assert figures["success_rate"] != summary["best_selection_score"]
    assert main(["evaluate", str(tmp_path / "lake"), "--episodes", "200"]) == 0
    text = capsys.readouterr().out
    assert "95% CI [" in text and "over 200 episodes" in text and "test split" in text


def test_runs_table_reads_old_summaries_and_shows_both_figures(tmp_path):
    trained = gymforge("train", "qlearning", "--env", "CliffWalking-v1", "--steps", "3000", "--eval-every", "1000",
                       "--logdir", str(tmp_path), "--name", "new")
    assert trained.returncode == 0, trained.stderr
    assert "(validation, chose best.pt)" in trained.stderr and "last policy on the test split" in trained.stderr
    old = tmp_path / "old"
    old.mkdir()
    (old / "config.yaml").write_text((tmp_path / "new" / "config.yaml").read_text())
    summary = json.loads((tmp_path / "new" / "summary.json").read_text())
    old_summary = {key: value for key, value in summary.items() if key not in ("best_selection_score", "final_eval")}
    (old / "summary.json").write_text(json.dumps({**old_summary, "best_score": -77.0}))
    listed = gymforge("runs", "--logdir", str(tmp_path), "--json")
    rows = {row["run"]: row for row in json.loads(listed.stdout)}
    assert rows["old"]["best_eval"] == -77.0 and rows["old"]["final_test"] is None
    assert rows["new"]["best_eval"] == summary["best_selection_score"]
    assert rows["new"]["final_test"] == summary["final_eval"]["mean_return"]


def test_evaluate_refuses_a_seed_for_a_generative_run(tmp_path):
    trained = gymforge("train", "ae", "--data", "digits", "--steps", "64", "--logdir", str(tmp_path), "--name", "g")
    if trained.returncode != 0:
        pytest.skip(f"no quick generative run here: {trained.stderr.strip().splitlines()[-1:]}")
    refused = gymforge("evaluate", str(tmp_path / "g"), "--seed", "3")
    assert refused.returncode == 2 and "--seed applies to agent runs" in refused.stderr
    assert "Traceback" not in refused.stderr
