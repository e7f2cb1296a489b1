"""Do the generators make digits a person recognises, measured on images no model trained on? Each model trains
with its digits preset on one CPU thread; best.pt is chosen on the validation split (a fixed sample stream),
then the checkpoint is evaluated on the held-out test split with fresh samples.

The judge classifier trains on the training split only. FID, the Inception-style score, mean confidence and
class coverage compare 1000 samples with the 180 held-out test images; beside each FID is the real-vs-real
floor, the FID of 1000 training images against the same test images (what reproducing the training data
would score). Conditional models draw labels from the class prior and report conditional accuracy (how often
the judge agrees with the requested class). Bars (from the issues): mean confidence >= 0.8, every class >= 3%
of the samples, and conditional accuracy >= 0.9 for conditional models. Times are process CPU seconds (one
thread) and wall-clock on a shared machine; one JSON line per run goes to stderr, the last stdout line is one
JSON object.

    python benchmarks/generative_quality.py [--only vae dcgan] [--seeds 0 1 2] [--scale 1.0]
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

from gymforge.app import api

MODELS = {  # name: (algorithm, extra options beyond the digits preset)
    "vae": ("vae", {}),
    "cvae": ("vae", {"conditional": True}),
    "gan": ("gan", {}),
    "cgan-mlp": ("gan", {"conditional": True}),
    "dcgan": ("dcgan", {}),
    "cgan": ("cgan", {}),
    "wgan-gp": ("wgan-gp", {}),
    "ae": ("ae", {}),
    "cyclegan": ("cyclegan", {}),
}
GENERATORS = ("vae", "cvae", "gan", "cgan-mlp", "dcgan", "cgan", "wgan-gp")
CONDITIONAL = ("cvae", "cgan-mlp", "cgan")


def rounded(figures: dict) -> dict:
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in figures.items()}


def passes(name: str, figures: dict) -> bool:
    ok = figures.get("mean_confidence", 0) >= 0.8 and figures.get("min_class_share", 0) >= 0.03
    return ok and (name not in CONDITIONAL or figures.get("conditional_accuracy", 0) >= 0.9)


def train_one(name: str, seed: int, logdir: Path, scale: float, grids: Path | None = None) -> dict:
    algo, extra = MODELS[name]
    config = api.make_config(algo, {"data": "digits", "seed": seed, **extra})
    config.steps = int(config.steps * scale)
    config.eval_samples = 1000
    cpu, wall = time.process_time(), time.perf_counter()
    run = api.train(algo, config, name=f"{name}-{seed}", logdir=logdir, progress_bar=False)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    summary = run.read_summary()
    result = {"model": name, "seed": seed, "steps": summary["progress"], "cpu_s": round(cpu, 1),
              "wall_s": round(wall, 1)}
    for checkpoint in ("best", "last"):  # best.pt was chosen on validation; both are reported on the test split
        learner = api.load_learner(run.path, checkpoint)
        figures = rounded(learner.evaluate("test"))
        if name in GENERATORS:
            figures["passes"] = passes(name, figures)
        result[checkpoint] = figures
    if grids is not None:  # the picture a person would look at: samples, or inputs beside outputs
        from gymforge.generative.images import save_png

        has_prior = getattr(learner, "has_prior", False)
        save_png(grids / f"{name}-{seed}.png", learner.sample_grid(64, seed=0, reconstruct=not has_prior))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every preset's step budget")
    parser.add_argument("--grids", type=Path, default=None, help="save each model's 64-image grid here as PNG")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only:
            for seed in args.seeds:
                result = train_one(name, seed, Path(folder), args.scale, args.grids)
                print(json.dumps(result), file=sys.stderr, flush=True)
                results.append(result)
    generators = [r for r in results if "passes" in r["best"]]
    print(json.dumps({"benchmark": "generative_quality", "data": "digits 16x16", "eval_samples": 1000,
                      "reference": "held-out test split", "all_generators_pass": all(r["best"]["passes"]
                                                                                      for r in generators),
                      "models": results}))


if __name__ == "__main__":
    main()
