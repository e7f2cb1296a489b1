"""gymforge's VAE and DCGAN against plain reference loops in the manner of pytorch/examples, same data,
same budget, one run.

Question: after a fixed CPU budget on the default dataset (scikit-learn's digits at 16x16), is gymforge's
VAE's held-out negative ELBO (nats per image) lower than that of the examples' MLP VAE (vae/main.py: 400
hidden units, 20 latents, BCE summed + KL, Adam 1e-3, batch 128), and how does the DCGAN's FID compare with
the examples' DCGAN loop (dcgan/main.py: transposed-conv G, strided-conv D with LeakyReLU 0.2, BCELoss on a
sigmoid, N(0, 0.02) init, Adam 2e-4 (0.5, 0.999), batch 64), scaled to 16x16?

Both sides are measured with the same functions: held-out negative ELBO with analytic KL and the
reconstruction term averaged over 64 posterior draws; FID on gymforge's judge classifier's features,
1000 samples against 1000 training images. Budgets are process CPU seconds on one thread (the machine is
shared, so wall-clock is reported too). Progress lines go to stderr; the last stdout line is one JSON object.

    python benchmarks/generative.py [--vae-seconds 60] [--gan-seconds 90] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F
from torch import nn

from generative.classifier import get_classifier
from generative.data import load_data
from generative.gan import DCGAN
from generative.metrics import bernoulli_log_likelihood, gaussian_kl, sample_figures
from gymforge import api


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


# ---- the reference loops, written the way pytorch/examples writes them ----------------------------------
class ReferenceVAE(nn.Module):
    def __init__(self, pixels: int) -> None:
        super().__init__()
        self.pixels = pixels
        self.fc1 = nn.Linear(pixels, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, pixels)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, self.pixels))
        z = self.reparameterize(mu, logvar)
        return torch.sigmoid(self.decode_logits(z)), mu, logvar


def reference_vae(train: torch.Tensor, budget: Budget, seed: int) -> tuple[ReferenceVAE, int]:
    torch.manual_seed(seed)
    pixels = train[0].numel()
    model = ReferenceVAE(pixels)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seen = 0
    model.train()
    while budget.left():
        for index in torch.randperm(len(train)).split(128):
            data = train[index]
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            bce = F.binary_cross_entropy(recon_batch, data.view(-1, pixels), reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = bce + kld
            loss.backward()
            optimizer.step()
            seen += len(index)
            if not budget.left():
                break
    return model, seen


class ReferenceGenerator(nn.Module):
    def __init__(self, nz: int, ngf: int, nc: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),  # 4x4
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),  # 8x8
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())  # 16x16

    def forward(self, x):
        return self.main(x)


class ReferenceDiscriminator(nn.Module):
    def __init__(self, ndf: int, nc: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),  # 8x8
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False), nn.Sigmoid())  # 1x1

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def reference_dcgan(train: torch.Tensor, budget: Budget, seed: int, nz: int = 64) -> tuple[nn.Module, int]:
    torch.manual_seed(seed)
    netG, netD = ReferenceGenerator(nz, 32, train.shape[1]), ReferenceDiscriminator(32, train.shape[1])
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    seen = 0
    while budget.left():
        for index in torch.randperm(len(train)).split(64):
            real = train[index] * 2 - 1  # transforms.Normalize((0.5,), (0.5,))
            batch_size = real.size(0)
            netD.zero_grad()
            label = torch.full((batch_size,), 1.0)
            errD_real = criterion(netD(real), label)
            errD_real.backward()
            noise = torch.randn(batch_size, nz, 1, 1)
            fake = netG(noise)
            label.fill_(0.0)
            errD_fake = criterion(netD(fake.detach()), label)
            errD_fake.backward()
            optimizerD.step()
            netG.zero_grad()
            label.fill_(1.0)
            errG = criterion(netD(fake), label)
            errG.backward()
            optimizerG.step()
            seen += batch_size
            if not budget.left():
                break
    netG.eval()
    return netG, seen


# ---- shared measurements ---------------------------------------------------------------------------------
@torch.no_grad()
def held_out_neg_elbo(encode, decode_logits, test: torch.Tensor, samples: int = 64) -> float:
    """Negative ELBO per image in nats: analytic KL plus the Bernoulli term averaged over `samples` draws."""
    generator = torch.Generator().manual_seed(0)
    mean, log_var = encode(test)  # (N, D)
    noise = torch.randn(samples, *mean.shape, generator=generator)
    latent = mean + noise * (0.5 * log_var).exp()  # (K, N, D)
    logits = decode_logits(latent.flatten(0, 1)).view(samples * len(test), *test.shape[1:])
    log_likelihood = bernoulli_log_likelihood(logits, test.repeat(samples, 1, 1, 1)).view(samples, -1)
    return float((-log_likelihood.mean(0) + gaussian_kl(mean, log_var)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vae-seconds", type=float, default=60.0)
    parser.add_argument("--gan-seconds", type=float, default=90.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_data("digits", 16)
    test, real = data.test, data.train[torch.randperm(len(data.train), generator=torch.Generator().manual_seed(0))[:1000]]
    classifier = get_classifier(data)
    log(f"digits 16x16: {len(data.train)} training and {len(test)} held-out images; classifier held-out accuracy "
        f"{classifier.test_accuracy:.3f}")

    # VAE: gymforge (digits preset) vs the examples' MLP VAE
    learner = api.build_learner("vae", api.make_config("vae", {"data": "digits", "seed": args.seed}))
    budget = Budget(args.vae_seconds)
    while budget.left():
        learner.train_step()
    ours_vae = {**budget.spent(), "images_seen": learner.progress,
                "neg_elbo": learner.likelihood_figures(test, None, 64)["neg_elbo"]}
    log(f"gymforge vae: {ours_vae}")
    budget = Budget(args.vae_seconds)
    model, seen = reference_vae(data.train, budget, args.seed)
    model.eval()
    pixels = test[0].numel()
    reference = {**budget.spent(), "images_seen": seen, "neg_elbo": held_out_neg_elbo(
        lambda x: model.encode(x.view(-1, pixels)), model.decode_logits, test)}
    log(f"reference vae (pytorch/examples style): {reference}")

    # DCGAN: gymforge (digits preset) vs the examples' DCGAN loop
    gan = api.build_learner("dcgan", api.make_config("dcgan", {"data": "digits", "seed": args.seed}))
    assert isinstance(gan, DCGAN)
    budget = Budget(args.gan_seconds)
    while budget.left():
        gan.train_step()
    ours_gan = {**budget.spent(), "images_seen": gan.progress,
                **sample_figures(classifier, gan.sample_images(1000, args.seed + 1), real)}
    log(f"gymforge dcgan: {ours_gan}")
    budget = Budget(args.gan_seconds)
    generator, seen = reference_dcgan(data.train, budget, args.seed)
    with torch.no_grad():
        noise = torch.randn(1000, 64, 1, 1, generator=torch.Generator().manual_seed(args.seed + 1))
        samples = ((generator(noise) + 1) / 2).clamp(0, 1)
    reference_gan = {**budget.spent(), "images_seen": seen, **sample_figures(classifier, samples, real)}
    log(f"reference dcgan (pytorch/examples style): {reference_gan}")

    def rounded(figures: dict) -> dict:
        return {key: round(value, 4) if isinstance(value, float) else value for key, value in figures.items()}

    print(json.dumps({
        "benchmark": "generative", "data": "digits 16x16", "budget": "process CPU seconds, one thread",
        "vae_seconds": args.vae_seconds, "gan_seconds": args.gan_seconds,
        "vae": {"gymforge": rounded(ours_vae), "reference": rounded(reference),
                "neg_elbo_ratio": round(ours_vae["neg_elbo"] / reference["neg_elbo"], 4),
                "gymforge_better": ours_vae["neg_elbo"] < reference["neg_elbo"]},
        "dcgan": {"gymforge": rounded(ours_gan), "reference": rounded(reference_gan),
                  "fid_ratio": round(ours_gan["fid"] / reference_gan["fid"], 4), "fid_samples": 1000},
    }))


if __name__ == "__main__":
    main()
