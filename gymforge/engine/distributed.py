"""Past one machine: the same runs under `torchrun`, one process per rank, on torch.distributed.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous (MASTER_ADDR/PORT); `setup` joins the process
group (gloo on CPU, NCCL on GPU, with a timeout on every collective) and gives each rank its own seed stream.
What each learner does under it:
- gradients are averaged across ranks before every optimizer step: networks trained through their forward()
  are wrapped in DistributedDataParallel (`wrap`: the PPO policy, DQN's online network; a loss that averages
  over a count that differs by rank is scaled by `loss_scale` first, so the average is the global mean's
  gradient); the other optimizers
  (generative models, whose training calls several methods of a network, which DDP's forward hook would not
  see) get an all-reduce of their gradients as a step pre-hook (`prepare`): the same average DDP computes;
- rank 0 alone writes the run folder, TensorBoard, checkpoints, the progress bar and evaluations; every rank
  takes the stop decision together (`agree`), so the loops stay in lockstep;
- a lost peer ends the job with one line (`failure_line`) instead of a hang (a collective times out).

With WORLD_SIZE unset or 1 nothing here does anything: a single-process run is exactly what it was.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from gymforge.engine.run import Run

TIMEOUT_VARIABLE = "GYMFORGE_DISTRIBUTED_TIMEOUT"
DEFAULT_TIMEOUT_S = 900.0
"""Seconds a collective waits for its peers. Rank 0 evaluates while the others wait at the next collective,
so this must exceed one evaluation; a peer that hangs (rather than dies: torchrun sees a death at once) is
detected after this long."""
SEED_STRIDE = 1_000_000
"""Rank r seeds its environments, minibatch order and noise from seed + r * SEED_STRIDE (rank 0: the seed)."""


@dataclass
class Context:
    """This process's place in the job, set by `setup` (the defaults: one process alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    run_path: Path | None = None
    ddp_parameters: set[int] = field(default_factory=set)
    modules: list[nn.Module] = field(default_factory=list)


CONTEXT = Context()


# ---- who am I ---------------------------------------------------------------------------------------------
def rank() -> int:
    return CONTEXT.rank


def world_size() -> int:
    return CONTEXT.world_size


def is_distributed() -> bool:
    return CONTEXT.world_size > 1


def is_main() -> bool:
    """Rank 0 (or a single process): the one that writes files, logs, evaluates and shows progress."""
    return CONTEXT.rank == 0


def launched_rank() -> int:
    """The rank torchrun gave this process (0 outside torchrun), readable before `setup`."""
    return int(os.environ.get("RANK", "0")) if int(os.environ.get("WORLD_SIZE", "1")) > 1 else 0


def seed_offset() -> int:
    return CONTEXT.rank * SEED_STRIDE


def timeout_seconds() -> float:
    text = os.environ.get(TIMEOUT_VARIABLE, "")
    try:
        return float(text) if text else DEFAULT_TIMEOUT_S
    except ValueError:
        from gymforge.engine.errors import ConfigError

        raise ConfigError(f"${TIMEOUT_VARIABLE} must be a number of seconds, got {text!r}") from None


# ---- joining the job --------------------------------------------------------------------------------------
def setup(device: torch.device, config: Any) -> tuple[torch.device, Any]:
    """Under torchrun (WORLD_SIZE > 1): join the process group, pick LOCAL_RANK's GPU for cuda, and return this
    rank's config, whose seed is offset by rank so every rank steps its own envs / draws its own noise.
    Outside torchrun: (device, config) unchanged."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return device, config
    CONTEXT.rank, CONTEXT.world_size = int(os.environ["RANK"]), world
    CONTEXT.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":  # untested here (no GPU on the development machine); the standard DDP recipe
        device = torch.device("cuda", CONTEXT.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                timeout=timedelta(seconds=timeout_seconds()))
    CONTEXT.modules = []
    return device, dataclasses.replace(config, seed=config.seed + seed_offset())


def shared_seed(seed: int) -> int:
    """The seed every rank shares (the user's), from this rank's offset one: e.g. for the data permutation."""
    return seed - seed_offset()


def shard(indices: torch.Tensor) -> torch.Tensor:
    """This rank's share of a global batch of indices that every rank draws alike (a distributed sampler)."""
    if not is_distributed():
        return indices
    return indices.tensor_split(world_size())[rank()]


def follower_run(run: Run | None, algo: str) -> Run:
    """What a rank other than 0 holds instead of the run folder: it reads checkpoints, it never writes."""
    return FollowerRun(run.path if run is not None else Path(os.devnull), algo)


class FollowerRun(Run):
    def write_summary(self, updates: dict[str, Any]) -> dict[str, Any]:
        return {**self.read_summary(), **updates}


class NullLogger:
    """The Logger of ranks other than 0: they log nothing."""

    log_dir = Path(os.devnull)

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def note_run(run: Run) -> None:
    CONTEXT.run_path = run.path


# ---- gradients --------------------------------------------------------------------------------------------
def wrap(module: nn.Module) -> nn.Module:
    """DistributedDataParallel around `module` under torchrun (gradients averaged in backward); the module
    itself otherwise. Train through the returned module's forward; keep the raw module for acting and state."""
    if not is_distributed():
        return module
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [module_device(module)] if module_device(module).type == "cuda" else None
    wrapped = DistributedDataParallel(module, device_ids=device_ids)
    CONTEXT.ddp_parameters.update(id(parameter) for parameter in module.parameters())
    return wrapped


def module_device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def learner_parts(learner: Any) -> tuple[list[nn.Module], list[torch.optim.Optimizer]]:
    """The networks and optimizers a learner names in its `networks` and `optimizers` (what its checkpoint
    saves), each once."""
    modules = {id(module): module for module in learner.networks.values()}
    optimizers = {id(optimizer): optimizer for optimizer in learner.optimizers.values()}
    return list(modules.values()), list(optimizers.values())


def prepare(learner: Any) -> None:
    """Under torchrun: start every rank from rank 0's weights, and average across ranks the gradients of
    every optimizer not already served by DDP, just before it steps."""
    if not is_distributed():
        return
    modules, optimizers = learner_parts(learner)
    CONTEXT.modules = modules
    for module in modules:
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)
    for optimizer in optimizers:
        parameters = [parameter for group in optimizer.param_groups for parameter in group["params"]
                      if id(parameter) not in CONTEXT.ddp_parameters]
        if parameters:
            optimizer.register_step_pre_hook(lambda optimizer, args, kwargs, parameters=parameters:
                                             average_gradients(parameters))


def average_gradients(parameters: list[torch.Tensor]) -> None:
    """One all-reduce of the flattened gradients, divided by the world size (what DDP does, unbucketed)."""
    grads = [parameter.grad for parameter in parameters if parameter.grad is not None]
    if not grads:
        return
    flat = torch.cat([grad.reshape(-1) for grad in grads])
    dist.all_reduce(flat)
    flat /= world_size()
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def mean(value: Any) -> Any:
    """The mean of a scalar over ranks (e.g. the approx KL that decides an early stop); `value` itself alone."""
    if not is_distributed():
        return value
    tensor = torch.as_tensor(value, dtype=torch.float64).detach().to(collective_device(), copy=True)
    dist.all_reduce(tensor)
    return float(tensor) / world_size()


def mean_over(weighted: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """weighted.sum() / count over the samples of every rank (e.g. a global minibatch's advantage mean); alone,
    exactly weighted.sum() / count. Not differentiable across ranks: for statistics, not losses."""
    if not is_distributed():
        return weighted.sum() / count
    totals = torch.stack([weighted.sum().detach(), count.detach()]).to(collective_device(), torch.float64)
    dist.all_reduce(totals)
    return (totals[0] / totals[1]).to(weighted.device, weighted.dtype)


def loss_scale(count: torch.Tensor) -> torch.Tensor:
    """K x count / (the counts summed over the K ranks), for a loss that is a mean over this rank's `count`
    samples: scaled by it, DDP's average of the ranks' gradients is the gradient of the mean over all ranks'
    samples, also when ranks hold unequal counts (PPO's valid steps). Alone: 1."""
    if not is_distributed():
        return torch.ones((), dtype=count.dtype, device=count.device)
    import numpy as np

    total = float(all_reduce_sum(np.array([float(count)]))[0])
    return count.detach() * (world_size() / total)


def collective_device() -> torch.device:
    """Where small collective tensors live: NCCL reduces only GPU tensors, gloo CPU ones."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


# ---- lockstep ---------------------------------------------------------------------------------------------
def agree(flag: bool) -> bool:
    """True on every rank when it is true on any (the stop decision: a signal reaches ranks at different steps).
    Also copies rank 0's buffers (batch-norm statistics) to every rank, so the ranks stay identical."""
    if not is_distributed():
        return flag
    for module in CONTEXT.modules:
        for buffer in module.buffers():
            dist.broadcast(buffer.data, src=0)
    tensor = torch.tensor([float(flag)], device=collective_device())
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def reseed_after_restore(progress: int, learner: Any) -> None:
    """Every rank restored rank 0's checkpoint, RNG states included; ranks other than 0 take streams of their
    own again: the global RNGs and the learner's own streams, its `rngs` (PPO's minibatch order, DQN's
    exploration and replay sampling, a GAN's noise). Generators it does not list there (the shared data order)
    keep rank 0's state."""
    if not is_distributed() or rank() == 0:
        return
    import numpy as np

    from gymforge.engine.seeding import seed_everything, seed_stream, stream_seed

    seed = progress + seed_offset()
    seed_everything(seed)
    for name, value in learner.rngs.items():
        if isinstance(value, np.random.Generator):
            value.bit_generator.state = type(value.bit_generator)(seed_stream(seed, f"restored-{name}")).state
        elif isinstance(value, torch.Generator):
            value.manual_seed(stream_seed(seed, f"restored-{name}"))


# ---- normalization statistics -----------------------------------------------------------------------------
@contextmanager
def merged_normalization(envs: Any) -> Iterator[None]:
    """Around a rollout: afterwards every rank holds the running mean/var of all ranks' observations and
    returns (the statistics at the start, identical on every rank, merged with every rank's new data)."""
    if not is_distributed():
        yield
        return
    from gymforge.envs import load_normalization_state, normalization_state

    before = normalization_state(envs)
    yield
    after = normalization_state(envs)
    if after:
        load_normalization_state(envs, merge_statistics(before, after))


def merge_statistics(before: Any, after: Any) -> Any:
    """Every {mean, var, count} of `after` (this rank's, `before` its value at the rollout's start) merged over
    ranks: each rank's new data (count N_r, mean d_r, sum of squares S_r, recovered from before and after by
    inverting Chan et al.'s parallel update) joins the rank-averaged prior (c0, m0, v0):
    c = c0 + sum N_r, mean = m0 + A / c, var = (c0 v0 + B - A^2 / c) / c with A = sum N_r (d_r - m0) and
    B = sum S_r + N_r (d_r - m0)^2 (squares about m0: no cancellation). One rank alone gets `after` back."""
    import numpy as np

    if isinstance(after, dict) and {"mean", "var", "count"} <= set(after):
        m0, v0 = np.asarray(before["mean"], np.float64), np.asarray(before["var"], np.float64)
        mr, vr = np.asarray(after["mean"], np.float64), np.asarray(after["var"], np.float64)
        c0, cr = float(before["count"]), float(after["count"])
        new = cr - c0
        delta_mean = (cr * mr - c0 * m0) / new if new > 0 else m0
        delta_squares = (cr * vr - c0 * v0 - (delta_mean - m0) ** 2 * c0 * new / cr) if new > 0 else 0 * m0
        prior = all_reduce_mean(np.concatenate([[c0], m0.reshape(-1), v0.reshape(-1)]))
        size, shape = m0.size, m0.shape
        prior_count = prior[0]
        prior_mean, prior_var = prior[1:1 + size].reshape(shape), prior[1 + size:].reshape(shape)
        shift = delta_mean - prior_mean
        sums = all_reduce_sum(np.concatenate([[new], (new * shift).reshape(-1),
                                              (delta_squares + new * shift ** 2).reshape(-1)]))
        count = prior_count + sums[0]
        a, b = sums[1:1 + size].reshape(shape), sums[1 + size:].reshape(shape)
        merged_mean = prior_mean + a / count
        merged_var = np.maximum((prior_count * prior_var + b - a * a / count) / count, 0.0)
        return {**after, "mean": merged_mean.astype(np.asarray(after["mean"]).dtype),
                "var": merged_var.astype(np.asarray(after["var"]).dtype), "count": float(count)}
    if isinstance(after, dict):
        return {key: merge_statistics(before[key], value) for key, value in after.items()}
    return after


def all_reduce_sum(array: Any) -> Any:
    tensor = torch.from_numpy(array.astype("float64")).to(collective_device())
    dist.all_reduce(tensor)
    return tensor.cpu().numpy()


def all_reduce_mean(array: Any) -> Any:
    return all_reduce_sum(array) / world_size()


# ---- failure ----------------------------------------------------------------------------------------------
def failure_line(error: BaseException) -> str | None:
    """One line for an error that a lost or stuck peer caused on this rank; None for any other error."""
    if not is_distributed():
        return None
    text = str(error).strip()
    known = isinstance(error, getattr(dist, "DistError", ())) or any(
        marker in text for marker in ("gloo", "Gloo", "NCCL", "Connection closed", "Connection reset",
                                      "Timed out", "timed out", "Broken pipe"))
    if not isinstance(error, RuntimeError) or not known:
        return None
    first = next((line for line in text.splitlines() if line.strip()), type(error).__name__)
    first = re.sub(r"^\[[^\]]*\]\s*", "", first).split(". ")[0][:160]  # gloo prefixes its source file
    where = ""
    if CONTEXT.run_path is not None:
        last = Run(CONTEXT.run_path, "").checkpoint("last")
        where = (f"; the last checkpoint is {last}, continue with: torchrun --nproc-per-node K -m gymforge train "
                 f"--resume {CONTEXT.run_path}") if last.exists() else "; no checkpoint was written yet"
    return (f"gymforge: error: rank {rank()} of {world_size()} lost contact with another rank, so the job stops "
            f"({first}){where}")


def shutdown() -> None:
    """Leave the process group once the learner is gone. The collection first frees DDP wrappers caught in
    reference cycles: a reducer still holding the gloo group at interpreter exit tears its worker threads down
    during finalization and aborts the rank ("terminate called without an active exception")."""
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()
