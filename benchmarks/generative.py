"""Two questions about gymforge's generative side, answered apart, on the bundled digits at 16x16:

(a) Library overhead: what does gymforge cost against a plain training loop that runs the SAME recipe (same
    networks, initialisation, optimiser, batch size, and the same options), at equal CPU time? Answered for
    the DCGAN digits preset (critic shift 2, one-sided label smoothing 0.2, no batch norm in the critic) and
    the binarized VAE digits preset.
(b) Recipe effect: what does the DCGAN digits recipe buy against the textbook DCGAN (batch norm in the
    critic, no shift, no smoothing), measured in gymforge AND in the plain loop?

Every arm trains for the same process CPU seconds on one thread, for each seed (default 0, 1, 2); arms are
paired by seed (same initial weights, same evaluation samples). Measured on images no model trained on: FID,
confidence and class coverage of 1000 samples against the 180 held-out test images, judged by the classifier
trained on the training split (the real-vs-real floor at 1000 samples is printed beside them); the VAE's
held-out negative ELBO in nats on the test split binarized once. Each comparison prints the mean paired
difference with a 95% t interval over seeds; an interval that contains 0 is called a tie. Progress lines go
to stderr; the last stdout line is one JSON object.

    python benchmarks/generative.py [--gan-seconds 20] [--vae-seconds 10] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F
from gymforge.generative.metrics import bernoulli_log_likelihood, gaussian_kl, sample_figures

from gymforge.app import api

T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
TEXTBOOK = {"critic_shift": 0, "label_smoothing": 0.0, "critic_batch_norm": True}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Budget:
    """CPU seconds of this process (one thread), with wall-clock alongside."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.cpu, self.wall = seconds, time.process_time(), time.perf_counter()

    def left(self) -> bool:
        return time.process_time() - self.cpu < self.seconds

    def spent(self) -> dict[str, float]:
        return {"cpu_s": round(time.process_time() - self.cpu, 1), "wall_s": round(time.perf_counter() - self.wall, 1)}


def paired(a: list[float], b: list[float]) -> dict:
    """Mean of a - b over seeds with a 95% t interval; 'tie' when the interval holds 0."""
    differences = [x - y for x, y in zip(a, b)]
    mean = statistics.fmean(differences)
    half = T_975.get(len(differences) - 1, 1.96) * statistics.stdev(differences) / math.sqrt(len(differences))
    low, high = mean - half, mean + half
    verdict = "tie" if low <= 0 <= high else ("lower" if high < 0 else "higher")
    return {"mean_difference": round(mean, 3), "ci95": [round(low, 3), round(high, 3)], "verdict": verdict,
            "first": [round(x, 3) for x in a], "second": [round(y, 3) for y in b]}


# ---- DCGAN: gymforge's learner, and a plain loop over the same networks and recipe ------------------------
def dcgan_learner(seed: int, options: dict):
    config = api.make_config("dcgan", {"data": "digits", "seed": seed, **options})
    return api.build_learner("dcgan", config)  # seeds torch, then builds (and initialises) the networks


def gymforge_dcgan(seed: int, options: dict, seconds: float):
    learner = dcgan_learner(seed, options)
    budget = Budget(seconds)
    while budget.left():
        learner.train_step()
    return learner, {**budget.spent(), "images_seen": learner.progress}


def shift(images: torch.Tensor, pixels: int) -> torch.Tensor:
    """Each [-1, 1] image moved by up to `pixels` in x and y, the border filled with black (-1)."""
    batch, _, height, width = images.shape
    padded = F.pad(images, [pixels] * 4, value=-1.0)  # (B, C, H + 2p, W + 2p)
    dy, dx = torch.randint(0, 2 * pixels + 1, (2, batch))
    rows = (dy[:, None] + torch.arange(height))[:, :, None]  # (B, H, 1)
    cols = (dx[:, None] + torch.arange(width))[:, None, :]  # (B, 1, W)
    return padded[torch.arange(batch)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)  # (B, C, H, W)


def plain_dcgan(seed: int, options: dict, seconds: float):
    """The pytorch/examples dcgan/main.py loop, with the recipe's options written in by hand."""
    learner = dcgan_learner(seed, options)  # only for its freshly initialised networks and, later, evaluation
    netG, netD = learner.generator, learner.critic
    config = learner.config
    optimizerD = torch.optim.Adam(netD.parameters(), lr=config.learning_rate, betas=(config.beta1, config.beta2))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=config.learning_rate, betas=(config.beta1, config.beta2))
    train, nz, pixels = learner.data.train, config.latent_dim, config.critic_shift
    view = (lambda x: shift(x, pixels)) if pixels else (lambda x: x)
    seen, budget = 0, Budget(seconds)
    while budget.left():
        for index in torch.randperm(len(train)).split(config.batch_size):
            if len(index) < config.batch_size:
                continue
            real = train[index] * 2 - 1
            fake = netG(torch.randn(len(real), nz))
            real_target = torch.full((len(real),), 1.0 - config.label_smoothing)
            errD = (F.binary_cross_entropy_with_logits(netD(view(real)), real_target)
                    + F.binary_cross_entropy_with_logits(netD(view(fake.detach())), torch.zeros(len(real))))
            optimizerD.zero_grad()
            errD.backward()
            optimizerD.step()
            errG = F.binary_cross_entropy_with_logits(netD(view(fake)), torch.ones(len(real)))
            optimizerG.zero_grad()
            errG.backward()
            optimizerG.step()
            seen += len(real)
            if not budget.left():
                break
    return learner, {**budget.spent(), "images_seen": seen}


def gan_figures(learner, seed: int) -> dict:
    reference, _ = learner.split_images("test")
    samples = learner.sample_images(1000, 10_000 + seed)  # the same latents for every arm of a seed
    figures = sample_figures(learner.classifier, samples, reference)
    return {key: figures[key] for key in ("fid", "mean_confidence", "min_class_share")}


# ---- VAE: gymforge's learner, and a plain loop over the same model and likelihood -------------------------
def vae_learner(seed: int):
    return api.build_learner("vae", api.make_config("vae", {"data": "digits", "seed": seed}))


def gymforge_vae(seed: int, seconds: float):
    learner = vae_learner(seed)
    budget = Budget(seconds)
    while budget.left():
        learner.train_step()
    return learner, {**budget.spent(), "images_seen": learner.progress}


def plain_vae(seed: int, seconds: float):
    """The pytorch/examples vae/main.py loop on the same model, dynamically binarized as gymforge does."""
    learner = vae_learner(seed)
    model, config = learner.model, learner.config
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    train, seen, budget = learner.data.train, 0, Budget(seconds)
    while budget.left():
        for index in torch.randperm(len(train)).split(config.batch_size):
            data = torch.bernoulli(train[index])
            mu, logvar = model.encode(data, None)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            loss = (-bernoulli_log_likelihood(model.decode(z, None), data) + gaussian_kl(mu, logvar)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += len(index)
            if not budget.left():
                break
    return learner, {**budget.spent(), "images_seen": seen}


def vae_figures(learner, seed: int) -> dict:
    figures = learner.likelihood_figures(learner.evaluation_images("test"), None, 100, seed=seed)
    return {"neg_elbo": figures["neg_elbo"], "iwae_nll_k100": figures["iwae_nll"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gan-seconds", type=float, default=20.0)
    parser.add_argument("--vae-seconds", type=float, default=10.0)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    args = parser.parse_args()
    if len(args.seeds) < 2:
        parser.error("give at least 2 seeds (3 or more for a useful interval)")
    torch.set_num_threads(1)
    arms = {"gymforge_recipe": (gymforge_dcgan, {}), "plain_recipe": (plain_dcgan, {}),
            "gymforge_textbook": (gymforge_dcgan, TEXTBOOK), "plain_textbook": (plain_dcgan, TEXTBOOK)}
    gan: dict[str, list[dict]] = {name: [] for name in arms}
    vae: dict[str, list[dict]] = {"gymforge": [], "plain": []}
    floor = None
    for seed in args.seeds:
        for name, (train, options) in arms.items():
            learner, cost = train(seed, options, args.gan_seconds)
            result = {**cost, **gan_figures(learner, seed)}
            if floor is None:
                floor = learner.fid_floor("test", 1000)
            gan[name].append(result)
            log(f"dcgan seed {seed} {name}: {json.dumps({k: round(v, 4) for k, v in result.items()})}")
        for name, train in (("gymforge", gymforge_vae), ("plain", plain_vae)):
            learner, cost = train(seed, args.vae_seconds)
            result = {**cost, **vae_figures(learner, seed)}
            vae[name].append(result)
            log(f"vae seed {seed} {name}: {json.dumps({k: round(v, 4) for k, v in result.items()})}")

    def column(runs: list[dict], key: str) -> list[float]:
        return [run[key] for run in runs]

    def speed_ratio(ours: list[dict], plain: list[dict]) -> float:
        """Median over seeds of images per CPU second, gymforge over the plain loop."""
        return round(statistics.median((g["images_seen"] / g["cpu_s"]) / (p["images_seen"] / p["cpu_s"])
                                       for g, p in zip(ours, plain)), 3)

    overhead = {
        "dcgan_recipe": {"fid_gymforge_minus_plain": paired(column(gan["gymforge_recipe"], "fid"),
                                                            column(gan["plain_recipe"], "fid")),
                         "images_per_cpu_s_gymforge_over_plain": speed_ratio(gan["gymforge_recipe"], gan["plain_recipe"])},
        "vae": {"neg_elbo_gymforge_minus_plain": paired(column(vae["gymforge"], "neg_elbo"),
                                                        column(vae["plain"], "neg_elbo")),
                "images_per_cpu_s_gymforge_over_plain": speed_ratio(vae["gymforge"], vae["plain"])},
    }
    recipe = {side: {"fid_recipe_minus_textbook": paired(column(gan[f"{side}_recipe"], "fid"),
                                                         column(gan[f"{side}_textbook"], "fid")),
                     "min_class_share_recipe_minus_textbook": paired(
                         column(gan[f"{side}_recipe"], "min_class_share"),
                         column(gan[f"{side}_textbook"], "min_class_share"))}
              for side in ("gymforge", "plain")}
    log(f"library overhead (same recipe): {json.dumps(overhead)}")
    log(f"recipe effect (recipe minus textbook): {json.dumps(recipe)}")
    print(json.dumps({"benchmark": "generative", "data": "digits 16x16", "budget": "process CPU seconds, one thread",
                      "seeds": args.seeds, "gan_seconds": args.gan_seconds, "vae_seconds": args.vae_seconds,
                      "fid_samples": 1000, "fid_reference": "180 held-out test images", "fid_floor": round(floor, 3),
                      "library_overhead": overhead, "recipe_effect": recipe,
                      "runs": {"dcgan": gan, "vae": vae}}))


if __name__ == "__main__":
    main()
