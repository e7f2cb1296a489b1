"""Throughput under torchrun: PPO env steps/s (CartPole-v1) and VAE images/s (digits) at 1 and 2 ranks.

Every rank runs the same per-rank work (weak scaling: PPO 8 envs x 128 steps per rank, VAE 64 images per rank
per step), so 2 ranks do twice the work per update. The reference is the same `gymforge train` in one plain
process (no torchrun), in the same script run. Rates come from the runs' own TensorBoard `time/elapsed_s`
(training steps only: process start, the first step and the final evaluation left out); process start-up
is reported apart. Scaling efficiency = rate at 2 ranks / (2 x the plain rate). Medians over --repeats
with the range; configurations are interleaved so they share the machine's load alike.
On GPU (--device cuda, NCCL) each rank takes its LOCAL_RANK's GPU.

    python benchmarks/distributed.py [--repeats 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

WORKLOADS = {
    "ppo": (["ppo", "--env", "CartPole-v1", "--n-envs", "8", "--n-steps", "128", "--batch-size", "256",
             "--eval-episodes", "1"], 40960, "env steps/s"),
    "vae": (["vae", "--data", "digits", "--batch-size", "64", "--eval-samples", "100", "--iwae-samples", "1"],
            64000, "images/s"),
}
SETUPS = ("plain", "torchrun-1", "torchrun-2")


def launch(setup: str, args: list[str], logdir: Path, name: str) -> tuple[float, Path]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                   "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "OMP_NUM_THREADS": "1"}
    if setup == "plain":
        command = [sys.executable, "-m", "gymforge"]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc-per-node={setup.split('-')[1]}", "-m", "gymforge"]
    command += ["train", *args, "--logdir", str(logdir), "--name", name]
    started = time.perf_counter()
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False, timeout=1200)
    if result.returncode != 0:
        raise SystemExit(f"{setup} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - started, logdir / name


def training_rate(run: Path) -> tuple[float, float]:
    """(progress per second over the training steps after the first, seconds those steps took)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run), size_guidance={"scalars": 0})
    accumulator.Reload()
    elapsed = accumulator.Scalars("time/elapsed_s")
    first, last = elapsed[0], elapsed[-1]
    return (last.step - first.step) / (last.value - first.value), last.value - first.value


def load() -> float:
    return os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every budget (e.g. 0.25 to try it)")
    options = parser.parse_args()
    print(f"distributed throughput on {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
          f"device {options.device}, {options.repeats} repeats; load average {load():.1f} at the start", flush=True)
    figures: dict[str, dict] = {"cpu_cores": os.cpu_count(), "device": options.device, "repeats": options.repeats,
                                "load_average_start": round(load(), 2)}
    with tempfile.TemporaryDirectory() as folder:
        logdir = Path(folder)
        for workload, (args, steps, unit) in WORKLOADS.items():
            steps = int(steps * options.scale)
            args = [*args, "--steps", str(steps), "--eval-every", "0", "--checkpoint-every", "0",
                    "--device", options.device]
            rates: dict[str, list[float]] = {setup: [] for setup in SETUPS}
            startup: dict[str, list[float]] = {setup: [] for setup in SETUPS}
            for repeat in range(options.repeats):
                for setup in SETUPS if repeat % 2 == 0 else reversed(SETUPS):
                    wall, run = launch(setup, args, logdir, f"{workload}-{setup}-{repeat}")
                    rate, seconds = training_rate(run)
                    rates[setup].append(rate)
                    startup[setup].append(wall - seconds)
                    print(f"  {workload} {setup:<11} repeat {repeat}: {rate:8.0f} {unit} over {seconds:5.1f} s of "
                          f"training ({wall:5.1f} s in all, load {load():.1f})", flush=True)
            entry = {"unit": unit, "steps": steps}
            for setup in SETUPS:
                entry[setup] = {"median": round(float(np.median(rates[setup])), 1),
                                "range": [round(min(rates[setup]), 1), round(max(rates[setup]), 1)],
                                "overhead_s_median": round(float(np.median(startup[setup])), 1)}
            plain = entry["plain"]["median"]
            entry["speedup_2_ranks_vs_plain"] = round(entry["torchrun-2"]["median"] / plain, 3)
            entry["scaling_efficiency_2_ranks"] = round(entry["torchrun-2"]["median"] / (2 * plain), 3)
            entry["torchrun_1_rank_vs_plain"] = round(entry["torchrun-1"]["median"] / plain, 3)
            figures[workload] = entry
            print(f"{workload}: plain {plain:.0f}, torchrun 1 rank {entry['torchrun-1']['median']:.0f}, "
                  f"2 ranks {entry['torchrun-2']['median']:.0f} {unit}: speedup "
                  f"{entry['speedup_2_ranks_vs_plain']:.2f}x, scaling efficiency "
                  f"{entry['scaling_efficiency_2_ranks']:.0%}", flush=True)
    figures["load_average_end"] = round(load(), 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
