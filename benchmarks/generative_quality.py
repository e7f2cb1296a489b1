"""Do the generators make digits a person recognises? Each model trains with its digits preset on one CPU
thread; the judge classifier (trained on the same digits) labels 1000 samples per model.

Figures are those of the best checkpoint (the one `gymforge sample` uses), with the last evaluation beside
them. Bars (from the issue): mean classifier confidence >= 0.8 and every class >= 3% of the samples, for every
generator (VAE, conditional VAE, GAN, DCGAN, cGAN, WGAN-GP); the autoencoder reports its reconstruction
error and CycleGAN its translation figures instead. Times are process CPU seconds (one thread) and
wall-clock on a shared machine; progress lines go to stderr, the last stdout line is one JSON object.

    python benchmarks/generative_quality.py [--only vae dcgan] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from gymforge import api

MODELS = {  # name: (algorithm, extra options beyond the digits preset)
    "vae": ("vae", {}),
    "cvae": ("vae", {"conditional": True}),
    "gan": ("gan", {}),
    "dcgan": ("dcgan", {}),
    "cgan": ("cgan", {}),
    "wgan-gp": ("wgan-gp", {}),
    "ae": ("ae", {}),
    "cyclegan": ("cyclegan", {}),
}
GENERATORS = ("vae", "cvae", "gan", "dcgan", "cgan", "wgan-gp")


def train_one(name: str, logdir: Path, scale: float, grids: Path | None = None) -> dict:
    algo, extra = MODELS[name]
    config = api.make_config(algo, {"data": "digits", **extra})
    config.steps = int(config.steps * scale)
    config.eval_samples = 1000
    cpu, wall = time.process_time(), time.perf_counter()
    run = api.train(algo, config, name=name, logdir=logdir, progress_bar=False)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    summary = run.read_summary()
    last = {key: round(value, 4) for key, value in summary["last_eval"].items()}
    # the checkpoint `gymforge sample` and `evaluate` use: best.pt, chosen by the score (FID for GANs,
    # computed against training images, so slightly optimistic as a selection)
    learner = api.load_learner(run.path, "best")
    figures = {key: round(value, 4) for key, value in learner.evaluate().items()}
    result = {"model": name, "steps": summary["progress"], "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
              "checkpoint": "best", **figures, "last": last}
    if grids is not None:  # the picture a person would look at: samples, or inputs beside outputs
        from generative.images import save_png

        has_prior = getattr(learner, "has_prior", False)
        save_png(grids / f"{name}.png", learner.sample_grid(64, seed=0, reconstruct=not has_prior))
    if name in GENERATORS:
        result["passes"] = figures.get("mean_confidence", 0) >= 0.8 and figures.get("min_class_share", 0) >= 0.03
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every preset's step budget")
    parser.add_argument("--grids", type=Path, default=None, help="save each model's 64-image grid here as PNG")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only:
            result = train_one(name, Path(folder), args.scale, args.grids)
            print(json.dumps(result), file=sys.stderr, flush=True)
            results.append(result)
    generators = [r for r in results if "passes" in r]
    print(json.dumps({"benchmark": "generative_quality", "data": "digits 16x16", "eval_samples": 1000,
                      "all_generators_pass": all(r["passes"] for r in generators), "models": results}))


if __name__ == "__main__":
    main()
