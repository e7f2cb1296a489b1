"""What the per-evaluation episode video costs on the path a user runs: `gymforge train` with its defaults (one
greedy episode recorded to TensorBoard at each evaluation) against the same command with --no-eval-video, in the
same script run, alternating the two so that both see the same machine load.

Default case: PPO on CartPole-v1 with its preset (100k steps, an evaluation every 10k: 10 videos of up to 300
frames). Figures: median wall-clock of each side over --repeats runs (the run's own summary.json wall_clock_s,
so interpreter start-up is not counted) and the ratio with-video / without.

    python benchmarks/eval_video.py [--algo ppo] [--env CartPole-v1] [--steps 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def train(args: argparse.Namespace, logdir: Path, name: str, video: bool) -> float:
    command = [sys.executable, "-m", "gymforge", "train", args.algo, "--env", args.env, "--steps", str(args.steps),
               "--name", name, "--logdir", str(logdir), *([] if video else ["--no-eval-video"])]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SDL_VIDEODRIVER": "dummy"}
    subprocess.run(command, check=True, env=env, capture_output=True, text=True)
    return json.loads((logdir / name / "summary.json").read_text())["wall_clock_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"video": [], "no_video": []}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            for side in ("video", "no_video") if repeat % 2 == 0 else ("no_video", "video"):
                seconds = train(args, Path(folder), f"{side}-{repeat}", side == "video")
                times[side].append(seconds)
                print(f"repeat {repeat + 1}/{args.repeats} {side:>8}: {seconds:6.1f} s", flush=True)
    video, plain = float(np.median(times["video"])), float(np.median(times["no_video"]))
    print(json.dumps({"algo": args.algo, "env": args.env, "steps": args.steps, "repeats": args.repeats,
                      "median_s_with_video": round(video, 2), "median_s_without_video": round(plain, 2),
                      "ratio_with_over_without": round(video / plain, 3), "times": times}))


if __name__ == "__main__":
    main()
