"""Real multi-process jobs under torchrun (gloo on CPU): ranks stay bit-identical, rank 0 alone writes the run,
a killed rank stops the job with one line and the run resumes, and 2 ranks learn like 1 on the same global batch.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch

from gymforge.engine import distributed
from gymforge.engine.checkpoint import load_checkpoint
from gymforge.engine.errors import ConfigError
from tests.helpers import ROOT, shifted_seed

JOB = Path(__file__).with_name("job.py")


@pytest.fixture(scope="module", autouse=True)
def classifier_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The VAE's evaluation trains its judge classifier once, in a private cache folder (as tests/generative)."""
    folder = tmp_path_factory.mktemp("gymforge-cache")
    previous = os.environ.get("GYMFORGE_CACHE")
    os.environ["GYMFORGE_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("GYMFORGE_CACHE", None)
    else:
        os.environ["GYMFORGE_CACHE"] = previous


def job_environment(dump: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "OMP_NUM_THREADS": "1",
            "GYMFORGE_TEST_DUMP": str(dump)}


def torchrun_command(ranks: int, *args: str) -> list[str]:
    """torchrun on one machine with a free port (--standalone), running tests/distributed/job.py."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={ranks}",
            str(JOB), *args]


def torchrun(tmp_path: Path, ranks: int, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(torchrun_command(ranks, *args), cwd=tmp_path, env=job_environment(tmp_path),
                          capture_output=True, text=True, timeout=timeout, check=False)


def tensors(tree: object, prefix: str = "") -> dict[str, torch.Tensor]:
    """The tensors of a nested state dict by path."""
    if isinstance(tree, dict):
        found = {}
        for key, value in tree.items():
            found.update(tensors(value, f"{prefix}/{key}"))
        return found
    if isinstance(tree, torch.Tensor):
        return {prefix: tree}
    if isinstance(tree, np.ndarray):
        return {prefix: torch.from_numpy(tree)}
    return {}


# ---- one process: nothing changes ---------------------------------------------------------------------------
def test_a_single_process_is_left_exactly_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without torchrun (or with WORLD_SIZE=1) every hook hands back what it was given, untouched."""
    from gymforge.generative.vae import VAEConfig

    for world in (None, "1"):
        if world is None:
            monkeypatch.delenv("WORLD_SIZE", raising=False)
        else:
            monkeypatch.setenv("WORLD_SIZE", world)
        config, device = VAEConfig(steps=10), torch.device("cpu")
        assert distributed.setup(device, config) == (device, config)
        assert distributed.setup(device, config)[1] is config
        assert not distributed.is_distributed() and distributed.is_main() and distributed.world_size() == 1
        indices = torch.arange(8)
        assert distributed.shard(indices) is indices
        kl = torch.tensor(0.5)
        assert distributed.mean(kl) is kl
        assert distributed.agree(True) is True and distributed.agree(False) is False
        module = torch.nn.Linear(2, 2)
        assert distributed.wrap(module) is module
        assert distributed.shared_seed(7) == 7 and distributed.seed_offset() == 0
        assert distributed.failure_line(RuntimeError("Connection closed by peer")) is None


def test_cuda_ranks_take_their_local_gpu_over_nccl_and_cpu_ranks_use_gloo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU path without a GPU: `--device cuda` under torchrun sets LOCAL_RANK's GPU and joins with NCCL;
    CPU joins with gloo; both with the collective timeout. (Untested on a real GPU here.)"""
    import dataclasses
    from datetime import timedelta

    from gymforge.generative.vae import VAEConfig

    joined, devices = [], []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group",
                        lambda backend, timeout: joined.append((backend, timeout)))
    monkeypatch.setattr(torch.cuda, "set_device", devices.append)
    monkeypatch.setattr(distributed, "CONTEXT", distributed.Context())
    for name, value in {"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1", distributed.TIMEOUT_VARIABLE: "42"}.items():
        monkeypatch.setenv(name, value)
    config = VAEConfig(steps=10, seed=5)
    device, rank_config = distributed.setup(torch.device("cuda"), config)
    assert device == torch.device("cuda", 1) and devices == [torch.device("cuda", 1)]
    assert joined == [("nccl", timedelta(seconds=42))]
    assert rank_config == dataclasses.replace(config, seed=5 + 3 * distributed.SEED_STRIDE)
    assert distributed.world_size() == 4 and distributed.rank() == 3 and not distributed.is_main()
    assert distributed.shared_seed(rank_config.seed) == 5
    assert distributed.shard(torch.arange(8)).tolist() == [6, 7]  # the last quarter of the global batch
    device, _ = distributed.setup(torch.device("cpu"), config)
    assert device == torch.device("cpu") and joined[-1] == ("gloo", timedelta(seconds=42))
    monkeypatch.setenv(distributed.TIMEOUT_VARIABLE, "soon")
    with pytest.raises(ConfigError, match=distributed.TIMEOUT_VARIABLE):
        distributed.setup(torch.device("cpu"), config)


def test_normalization_statistics_merged_over_ranks_equal_the_pooled_statistics(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ranks (threads summing through a stand-in all-reduce), each with its own new observations after a
    shared start: the merge is what one tracker holds after seeing all of them (means 100 apart, a variance
    of 1e-4 beside one of 9: no cancellation)."""
    import threading

    from gymforge.envs.normalize import RunningMeanStd

    barrier, contributions = threading.Barrier(2), {}

    def all_reduce_sum(array: np.ndarray) -> np.ndarray:
        contributions[threading.current_thread().name] = array
        barrier.wait()
        total = contributions["rank-0"] + contributions["rank-1"]
        barrier.wait()
        return total

    monkeypatch.setattr(distributed, "all_reduce_sum", all_reduce_sum)
    monkeypatch.setattr(distributed.CONTEXT, "world_size", 2)
    rng = np.random.default_rng(0)
    prior = rng.normal(3.0, 2.0, size=(50, 3))
    data = [rng.normal([1.0, -5.0, 100.0], [0.5, 3.0, 0.01], size=(n, 3)) for n in (40, 70)]
    merged = {}

    def rank(index: int) -> None:
        mine = RunningMeanStd(shape=(3,), dtype=np.float64)
        mine.update(prior)
        before = {"obs_rms": mine.get_state()}
        mine.update(data[index][:25])
        mine.update(data[index][25:])
        merged[index] = distributed.merge_statistics(before, {"obs_rms": mine.get_state()})["obs_rms"]

    threads = [threading.Thread(target=rank, args=(index,), name=f"rank-{index}") for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    pooled = RunningMeanStd(shape=(3,), dtype=np.float64)
    pooled.update(prior)
    pooled.update(np.concatenate(data))
    for index in (0, 1):
        np.testing.assert_allclose(merged[index]["mean"], pooled.mean, rtol=1e-10)
        np.testing.assert_allclose(merged[index]["var"], pooled.var, rtol=1e-8)
        assert merged[index]["count"] == pytest.approx(pooled.count)
    assert np.array_equal(merged[0]["mean"], merged[1]["mean"]) and np.array_equal(merged[0]["var"], merged[1]["var"])
    # a rank alone (its own prior) gets its own statistics back
    alone = RunningMeanStd(shape=(3,), dtype=np.float64)
    alone.update(prior)
    start = alone.get_state()
    alone.update(data[0])
    monkeypatch.setattr(distributed, "all_reduce_sum", lambda array: array)
    monkeypatch.setattr(distributed.CONTEXT, "world_size", 1)
    back = distributed.merge_statistics(start, alone.get_state())
    np.testing.assert_allclose(back["mean"], alone.mean, rtol=1e-12)
    np.testing.assert_allclose(back["var"], alone.var, rtol=1e-10)


def test_a_resumed_dqn_draws_its_own_replay_minibatches_on_each_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rank restores rank 0's checkpoint (with --save-buffer: its replay buffer and the buffer's RNG). After
    the restore rank 0 draws the minibatch a single process resuming it draws, rank 1 one of its own (before the
    fix both drew rank 0's: identical minibatches on every rank)."""
    import copy
    import dataclasses

    from gymforge.agents.dqn import DQN, DQNConfig
    from gymforge.engine.seeding import rng_state, set_rng_state

    config = DQNConfig(env="CartPole-v1", buffer_size=64, learning_starts=0, save_buffer=True, seed=3)
    saved = DQN(config)
    for _ in range(40):
        saved.step_envs()
    state = saved.state_dict()
    saved.close()
    indices, before = {}, rng_state()
    try:
        for rank, world in ((0, 1), (0, 2), (1, 2)):
            learner = DQN(dataclasses.replace(config, seed=config.seed + rank * distributed.SEED_STRIDE))
            learner.load_state_dict(copy.deepcopy(state))
            with monkeypatch.context() as patch:
                patch.setattr(distributed, "CONTEXT", distributed.Context(rank=rank, world_size=world))
                distributed.reseed_after_restore(learner.progress, learner)
            indices[rank, world] = learner.buffer.sample(16).indices
            learner.close()
    finally:
        set_rng_state(before)
    assert np.array_equal(indices[0, 2], indices[0, 1])
    assert not np.array_equal(indices[0, 2], indices[1, 2])


def test_loss_scale_turns_the_average_of_unequal_local_means_into_the_global_mean(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand-computed: rank 0 holds [1, 2, 3, 4] (mean 2.5), rank 1 holds [10]. DDP's average of the two local
    means is 6.25; the mean of all five is 4. Scaled by K x count / total (1.6 and 0.4), the average is 4."""
    monkeypatch.setattr(distributed.CONTEXT, "world_size", 2)
    monkeypatch.setattr(distributed, "all_reduce_sum", lambda array: array * 0 + 5.0)  # the counts' sum, 4 + 1
    scales = [distributed.loss_scale(torch.tensor(4.0)), distributed.loss_scale(torch.tensor(1.0))]
    assert [float(scale) for scale in scales] == pytest.approx([1.6, 0.4])
    assert (scales[0] * 2.5 + scales[1] * 10.0) / 2 == pytest.approx(4.0)
    monkeypatch.setattr(distributed.CONTEXT, "world_size", 1)
    assert float(distributed.loss_scale(torch.tensor(4.0))) == 1.0


def test_ppo_ranks_with_unequal_valid_steps_get_the_gradient_of_the_union(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rank 0's minibatch has 6 valid steps, rank 1's 4 steps of which 2 are valid (padding masked out, as in
    recurrent sequences). DDP's average of the two ranks' gradients equals one process's gradient on the union
    of their 8 valid steps (before the fix each rank's mean weighed alike: 1/12 per step of rank 0, 1/4 of rank 1)."""
    from gymforge.agents.ppo import PPO, PPOConfig
    from gymforge.agents.rollout import Minibatch

    torch.manual_seed(0)
    agent = PPO(PPOConfig(env="CartPole-v1", n_envs=2, n_steps=8, batch_size=16, normalize_advantage=False,
                          clip_range_vf=0.2, ent_coef=0.01))
    generator = torch.Generator().manual_seed(5)
    size = 10
    observations = torch.randn(size, 4, generator=generator)
    actions = torch.randint(0, 2, (size,), generator=generator)
    columns = [observations, actions, -torch.rand(size, generator=generator), torch.randn(size, generator=generator),
               torch.randn(size, generator=generator), torch.randn(size, generator=generator)]
    mask = torch.tensor([1.0] * 6 + [1.0, 0.0, 1.0, 0.0])

    def gradient(part: slice) -> torch.Tensor:
        agent.model.zero_grad()
        loss, _ = agent.losses(Minibatch(*[column[part] for column in columns], mask[part], None, ()), 0.2)
        loss.backward()
        return torch.cat([parameter.grad.flatten() for parameter in agent.model.parameters()])

    whole = gradient(slice(0, size))
    with monkeypatch.context() as patch:
        patch.setattr(distributed.CONTEXT, "world_size", 2)
        patch.setattr(distributed, "all_reduce_sum", lambda array: array * 0 + 8.0)  # valid steps: 6 + 2
        averaged = (gradient(slice(0, 6)) + gradient(slice(6, size))) / 2  # what DDP's all-reduce computes
    torch.testing.assert_close(averaged, whole, rtol=1e-5, atol=1e-7)
    agent.close()


def test_ppo_gradients_over_two_ranks_equal_the_gradient_of_the_whole_minibatch(tmp_path: Path) -> None:
    """DDP really averages: each rank's half of a minibatch gives the whole minibatch's gradient."""
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                             str(JOB.with_name("gradient_job.py"))], cwd=tmp_path, env=job_environment(tmp_path),
                            capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("worst relative gradient difference") == 2


def test_shutdown_frees_reference_cycles_before_it_leaves_the_process_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DDP wrapper caught in a reference cycle still holds the gloo group; left to interpreter exit it aborted
    a rank in 10 of 50 runs here, so shutdown() collects such cycles before it destroys the group."""

    class Holder:
        pass

    holder = Holder()
    holder.cycle = holder
    alive = weakref.ref(holder)
    del holder
    freed_before_destroy = []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(distributed.dist, "destroy_process_group", lambda: freed_before_destroy.append(alive() is None))
    gc.disable()  # no automatic collection may free the cycle for shutdown()
    try:
        distributed.shutdown()
    finally:
        gc.enable()
    assert freed_before_destroy == [True]


# ---- two ranks: identical weights, one run folder ---------------------------------------------------------
JOBS = {
    "ppo": ["ppo", "--env", "CartPole-v1", "--steps", "2048", "--n-envs", "2", "--n-steps", "64", "--batch-size",
            "64", "--eval-every", "1024", "--eval-episodes", "2", "--normalize-observation", "--normalize-reward",
            "--target-kl", "0.015"],
    "vae": ["vae", "--data", "digits", "--steps", "2048", "--batch-size", "32", "--eval-every", "1024",
            "--eval-samples", "100", "--iwae-samples", "2"],
    "dqn": ["dqn", "--env", "CartPole-v1", "--steps", "1200", "--learning-starts", "400", "--eval-every", "600",
            "--eval-episodes", "2"],
    # both GAN networks, batch norm in the generator (its statistics copied from rank 0 every step)
    "dcgan": ["dcgan", "--data", "digits", "--steps", "1024", "--batch-size", "32", "--eval-every", "1024",
              "--eval-samples", "100"],
}


@pytest.mark.parametrize("algo", ["ppo", "vae", pytest.param("dqn", marks=pytest.mark.slow),
                                  pytest.param("dcgan", marks=pytest.mark.slow)])
def test_two_ranks_end_bit_identical_and_rank_0_alone_writes_the_run(tmp_path: Path, algo: str) -> None:
    result = torchrun(tmp_path, 2, "train", *JOBS[algo], "--device", "cpu", "--logdir", "runs", "--name", "job")
    assert result.returncode == 0, result.stderr[-3000:]
    states = [torch.load(tmp_path / f"rank-{rank}.pt", weights_only=True) for rank in (0, 1)]
    kept = ("networks", "optimizers", "normalization")
    weights = [tensors({key: value for key, value in state.items() if key in kept}) for state in states]
    assert len(weights[0]) > 4 and weights[0].keys() == weights[1].keys()
    different = [key for key in weights[0] if not torch.equal(weights[0][key], weights[1][key])]
    assert not different, f"ranks differ in {different}"
    if algo == "ppo":  # merged statistics: both ranks normalize alike
        assert any("obs_rms" in key for key in weights[0]) and any("return_rms" in key for key in weights[0])
    # the budget counts global steps: PPO 2048 / (2 ranks x 2 envs x 64 steps) = 8 updates (not 16);
    # the VAE's 2048 images in global batches of 2 ranks x 32 images = 32 Adam steps (not 64)
    if algo == "ppo":
        assert states[0]["updates"] == 8
    if algo == "vae":
        assert int(states[0]["optimizers"]["vae"]["state"][0]["step"]) == 32
    # each rank drew its own stream (envs and minibatches, or augmentation noise): those states differ
    generative = algo in ("vae", "dcgan")
    streams = [state["rng"]["augment"] if generative else json.dumps(state["rng"], default=str) for state in states]
    assert (not torch.equal(*streams)) if generative else streams[0] != streams[1]
    # rank 0 alone wrote: one run folder, one event file, its pid in the summary; the job reported once
    assert [path.name for path in (tmp_path / "runs").iterdir()] == ["job"]
    run = tmp_path / "runs" / "job"
    assert len(list(run.glob("events.out.tfevents.*"))) == 1
    summary = json.loads((run / "summary.json").read_text())
    steps = int(JOBS[algo][JOBS[algo].index("--steps") + 1])
    assert summary["status"] == "finished" and summary["progress"] >= steps  # the budget counts global steps
    assert summary["pid"] == int((tmp_path / "pid-0").read_text())
    assert result.stderr.count("finished: ") == 1
    assert load_checkpoint(run / "checkpoints" / "last.pt")["progress"] == summary["progress"]


# ---- a rank dies ------------------------------------------------------------------------------------------
def signal_rank_1_mid_run(tmp_path: Path, signum: int, timeout_s: str = "900") -> tuple[int, str, float]:
    """Start a long 2-rank PPO job, wait for its first checkpoint, send rank 1 `signum`; (exit code, stderr,
    seconds from the signal to the job's end)."""
    command = torchrun_command(2, "train", "ppo", "--env", "CartPole-v1", "--steps", "1000000", "--n-envs", "2",
                               "--n-steps", "64", "--batch-size", "64", "--eval-every", "0", "--checkpoint-every",
                               "512", "--device", "cpu", "--logdir", "runs", "--name", "job")
    environment = {**job_environment(tmp_path), distributed.TIMEOUT_VARIABLE: timeout_s}
    job = subprocess.Popen(command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    rank_1 = None
    try:
        last = tmp_path / "runs" / "job" / "checkpoints" / "last.pt"
        deadline = time.monotonic() + 180
        while not (last.exists() and (tmp_path / "pid-1").exists()) and time.monotonic() < deadline:
            assert job.poll() is None, job.communicate()[1][-3000:]
            time.sleep(0.5)
        assert last.exists(), "no checkpoint within 180 s"
        time.sleep(2.0)  # mid-run: past a checkpoint, inside the next steps
        rank_1 = int((tmp_path / "pid-1").read_text())
        os.kill(rank_1, signum)
        signalled = time.monotonic()
        _, stderr = job.communicate(timeout=150)
        return job.returncode, stderr, time.monotonic() - signalled
    finally:
        if job.poll() is None:
            job.kill()
        if rank_1 is not None and signum == signal.SIGSTOP:
            with contextlib.suppress(ProcessLookupError):
                os.kill(rank_1, signal.SIGKILL)


def assert_one_clear_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.startswith("gymforge: error:")]
    assert len(lines) == 1 and "lost contact with another rank" in lines[0] and "--resume" in lines[0], stderr[-3000:]


@pytest.mark.slow
def test_a_killed_rank_stops_the_job_with_one_line_and_the_run_resumes(tmp_path: Path) -> None:
    """SIGKILL one of two ranks mid-run: the job exits non-zero within seconds with one gymforge line (not a
    hang), last.pt loads, and `--resume` continues it under torchrun with 1 rank and then with 2."""
    returncode, stderr, took = signal_rank_1_mid_run(tmp_path, signal.SIGKILL)
    assert returncode != 0
    assert took < 60, f"the job took {took:.0f} s to stop after a rank died"
    assert_one_clear_line(stderr)
    last = tmp_path / "runs" / "job" / "checkpoints" / "last.pt"
    progress = load_checkpoint(last)["progress"]
    assert progress >= 512

    for ranks, steps in ((1, progress + 512), (2, progress + 1536)):
        resumed = torchrun(tmp_path, ranks, "train", "--resume", "runs/job", "--steps", str(steps))
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        summary = json.loads((tmp_path / "runs" / "job" / "summary.json").read_text())
        assert summary["status"] == "finished" and summary["progress"] == steps
        assert load_checkpoint(last)["progress"] == steps
    assert len(list((tmp_path / "runs").iterdir())) == 1
    # after the 2-rank resume: identical weights, but each rank its own minibatch stream again
    states = [torch.load(tmp_path / f"rank-{rank}.pt", weights_only=True) for rank in (0, 1)]
    weights = [state["networks"]["actor_critic"] for state in states]
    assert all(torch.equal(weights[0][key], weights[1][key]) for key in weights[0])
    assert states[0]["rng"] != states[1]["rng"]


# ---- learning ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_two_ranks_with_half_the_envs_learn_like_one_rank_on_the_same_global_batch(tmp_path: Path) -> None:
    """CartPole PPO, 1 rank x 8 envs x batch 256 against 2 ranks x 4 envs x batch 128 (the same rollout of 1024
    and minibatch of 256 globally): both learn, and neither curve falls below half the other's.

    Two seeds a side cannot tell curves apart more finely: within one side the seeds' means differ by about 100
    (seed shift 100: 316 and 226 for 1 rank, 394 and 493 for 2 ranks), and the 35% margin this check once had
    failed there at 271 against 443. That the two set-ups compute the same update is checked exactly, not
    here: the DDP gradient equals one process's on the global minibatch (gradient_job.py, to 3e-7)."""
    common = ["ppo", "--env", "CartPole-v1", "--steps", "40960", "--eval-every", "8192", "--eval-episodes", "10",
              "--device", "cpu", "--logdir", "runs"]
    curves: dict[int, list[float]] = {1: [], 2: []}
    for seed in (shifted_seed(0), shifted_seed(1)):
        for ranks, n_envs, batch in ((1, 8, 256), (2, 4, 128)):
            name = f"r{ranks}-s{seed}"
            result = torchrun(tmp_path, ranks, "train", *common, "--seed", str(seed), "--n-envs", str(n_envs),
                              "--batch-size", str(batch), "--name", name, timeout=600)
            assert result.returncode == 0, result.stderr[-3000:]
            from tests.helpers import EventAccumulator

            accumulator = EventAccumulator(str(tmp_path / "runs" / name), size_guidance={"scalars": 0})
            accumulator.Reload()
            returns = [event.value for event in accumulator.Scalars("eval/mean_return")]
            assert len(returns) == 5
            curves[ranks].append(float(np.mean(returns)))
    one, two = float(np.mean(curves[1])), float(np.mean(curves[2]))
    print(f"mean eval return over the curve: 1 rank {curves[1]} -> {one:.1f}, 2 ranks {curves[2]} -> {two:.1f}")
    assert one > 120 and two > 120, "both must learn (a random policy returns about 22)"
    print(f"MARGIN distributed PPO CartPole: ratio {min(one, two) / max(one, two):.2f} (bar 0.5)")
    assert min(one, two) > 0.5 * max(one, two), f"1 rank {one:.1f} vs 2 ranks {two:.1f}"


@pytest.mark.slow
def test_a_hung_rank_is_caught_by_the_collective_timeout(tmp_path: Path) -> None:
    """SIGSTOP rank 1 (alive but stuck: torchrun sees nothing): rank 0's next collective times out after
    $GYMFORGE_DISTRIBUTED_TIMEOUT (8 s here), it prints one line, and torchrun ends the job."""
    returncode, stderr, took = signal_rank_1_mid_run(tmp_path, signal.SIGSTOP, timeout_s="8")
    assert returncode != 0
    assert took < 120, f"the job took {took:.0f} s to stop after a rank hung"
    assert_one_clear_line(stderr)
    assert "Timed out" in stderr
    load_checkpoint(tmp_path / "runs" / "job" / "checkpoints" / "last.pt")
