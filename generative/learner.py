"""What every generative model shares: its data, batching, the budget in images seen, sample and
reconstruction grids, the classifier-based figures, and checkpointing of its networks and optimizers.

A model defines its networks in `self.networks` and optimizers in `self.optimizers`, `train_step`,
`evaluate`, and the parts of this small interface it supports:
`decode(latent, labels)` (a generator: latent -> [0, 1] images), `encode(images, labels)` (an encoder),
`reconstruct(images, labels)`.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch
from gymforge.generative.classifier import Classifier, FeatureNet, get_classifier, get_feature_net
from gymforge.generative.config import GenerativeConfig
from gymforge.generative.data import Batches, augment, load_data
from gymforge.generative.images import make_grid
from gymforge.generative.metrics import frechet_distance, kernel_distance, sample_figures
from torch import nn

from gymforge.engine import distributed
from gymforge.engine.errors import ConfigError, UserError
from gymforge.engine.estimator import Estimator
from gymforge.engine.learner import check_split
from gymforge.engine.seeding import FIXED, stream_seed


class GenerativeLearner(Estimator):
    """Base of AE, VAE, GANs and CycleGAN; one train_step is one batch (progress counts images seen)."""

    name: ClassVar[str] = "generative"
    score_key: ClassVar[str] = "fid"
    score_mode: ClassVar[str] = "min"
    has_prior: ClassVar[bool] = True
    """Whether decode() of prior latents gives samples (an autoencoder has no prior to sample from)."""
    judged: ClassVar[bool] = True  # whether its figures need the judge classifier (an autoencoder's do not)
    latent_dim: int = 0

    def __init__(self, config: GenerativeConfig, device: torch.device | None = None) -> None:
        self.config = config
        self.device = device or torch.device("cpu")
        self.data = load_data(config.data, config.image_size, config.channels, config.holdout_fraction,
                              config.data_root, config.download, config.validation_fraction)
        if self.conditional and not self.data.labelled:
            raise ConfigError(f"{self.name} is conditional and needs labelled images, but {config.data} has no "
                              "labels; use an image folder with one sub-folder per class, or a named dataset")
        self.image_shape = self.data.image_shape
        self.train_images = self.data.train.to(self.device)
        self.train_labels = self.data.train_labels.to(self.device) if self.data.labelled else None
        # torchrun: every rank draws the same global batch (shared seed) and trains on its own share of it
        self.batches = Batches(len(self.train_images), config.batch_size * distributed.world_size(),
                               stream_seed(distributed.shared_seed(config.seed), "batches"))
        self.augment_generator = torch.Generator().manual_seed(stream_seed(config.seed, "augment"))
        self.progress = 0
        self.networks: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.rngs: dict[str, torch.Generator] = {"augment": self.augment_generator}
        # prepare()'s: the judge (labelled data), the learned feature net (unlabelled data) and what it said
        self._judge: tuple[Classifier | None, FeatureNet | None, dict[str, float | str]] | None = None
        self._floors: dict[tuple[str, int], float] = {}
        self._learned_floors: dict[tuple[str, ...], tuple[float, float]] = {}

    @property
    def conditional(self) -> bool:
        return bool(getattr(self.config, "conditional", False))

    @property
    def num_classes(self) -> int:
        return self.data.num_classes if self.conditional else 0

    # ---- data ---------------------------------------------------------------------------------------
    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """An augmented training batch (B, C, H, W) in [0, 1] and its labels (or None); counts toward progress."""
        config = self.config
        global_indices = self.batches.next_indices()
        indices = distributed.shard(global_indices)  # torchrun: this rank's share; else the whole batch
        images = self.train_images[indices.to(self.device)]
        if config.flip or config.crop_padding or config.noise_std:
            images = augment(images.cpu(), config.flip, config.crop_padding, config.noise_std,
                             self.augment_generator).to(self.device)
        self.progress += len(global_indices)
        labels = self.train_labels[indices.to(self.device)] if self.train_labels is not None else None
        return images, labels

    def one_hot(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        if labels is None or not self.conditional:
            return None
        return nn.functional.one_hot(labels, self.num_classes).float()

    @property
    def learned_features(self) -> bool:
        """Whether the figures need the feature net learned without labels: data without classes has no judge."""
        return self.judged and not self.data.labelled

    def feature_data(self) -> tuple[str, torch.Tensor, torch.Tensor]:
        """(name, training images, held-out images) the feature net learns from and is checked on."""
        return self.data.name, self.data.train, self.data.test

    def prepare(self) -> dict[str, float | str]:
        """Load or train, once, the judge classifier the figures need (labelled data), or the feature net learned
        from the training split without labels (unlabelled data), saying which, its cache file and its held-out
        figure (classifier.py). The Trainer calls and logs it; else the first evaluate() calls it."""
        if self._judge is None:
            judge, info = get_classifier(self.data) if self.judged else (None, {})
            features = None
            if self.learned_features:
                features, feature_info = get_feature_net(*self.feature_data())
                info = {**info, **feature_info}
            self._judge = (judge, features, info)
        return self._judge[2]

    @property
    def classifier(self) -> Classifier | None:
        self.prepare()
        return self._judge[0]  # type: ignore[index]

    @property
    def feature_net(self) -> FeatureNet | None:
        self.prepare()
        return self._judge[1]  # type: ignore[index]

    @contextlib.contextmanager
    def evaluating(self) -> Iterator[None]:
        """Eval mode (batch norm uses running statistics) and no gradients; training mode restored after."""
        modes = {name: network.training for name, network in self.networks.items()}
        for network in self.networks.values():
            network.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            for name, network in self.networks.items():
                network.train(modes[name])

    # ---- the model interface (overridden by the models that have these parts) -----------------------
    def decode(self, latent: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        raise UserError(f"{self.name} has no generator to sample from")

    def encode(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        raise UserError(f"{self.name} has no encoder; --reconstruct needs an autoencoder or a VAE")

    def reconstruct(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(images, labels), labels)

    # ---- sampling -----------------------------------------------------------------------------------
    def sample_labels(self, n: int, label: int | None) -> torch.Tensor | None:
        """Labels for n conditional samples: all `label`, or the classes in turn; None for unconditional models."""
        if label is not None and not self.conditional:
            raise UserError(f"--label needs a conditional model, and this {self.name} run is unconditional "
                            "(train one with --conditional, or use cgan)")
        if not self.conditional:
            return None
        if label is not None and not 0 <= label < self.num_classes:
            raise UserError(f"--label must be in 0..{self.num_classes - 1} for {self.data.name}, got {label}")
        labels = torch.arange(n) % self.num_classes if label is None else torch.full((n,), label)
        return labels.to(self.device)

    def prior_labels(self, n: int, seed: int) -> torch.Tensor | None:
        """n labels drawn at random from the training split's class frequencies (None when unconditional):
        evaluation asks for classes as often as the data has them, so coverage is not given away by cycling."""
        if not self.conditional:
            return None
        prior = torch.bincount(self.data.train_labels, minlength=self.num_classes).double()
        generator = torch.Generator().manual_seed(stream_seed(seed, "prior-labels"))
        return torch.multinomial(prior / prior.sum(), n, replacement=True, generator=generator).to(self.device)

    def sample_images(self, n: int, seed: int, label: int | None = None,
                      labels: torch.Tensor | None = None) -> torch.Tensor:
        """n samples (n, C, H, W) in [0, 1]; the same seed gives the same images. A conditional model draws
        class `label`, else the given `labels` (n,), else the classes in turn."""
        if not self.has_prior:
            raise UserError(f"{self.name} has no prior to sample from; use --reconstruct or --interpolate")
        generator = torch.Generator().manual_seed(seed)
        latent = torch.randn(n, self.latent_dim, generator=generator).to(self.device)
        if labels is None or not self.conditional:
            labels = self.sample_labels(n, label)
        with self.evaluating():
            return torch.cat([self.decode(z, None if labels is None else y) for z, y in
                              zip(latent.split(500), labels.split(500) if labels is not None else [None] * n)])

    def held_out(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n held-out images (and labels) picked by seed."""
        generator = torch.Generator().manual_seed(seed)
        index = torch.randperm(len(self.data.test), generator=generator)[:n]
        labels = self.data.test_labels[index].to(self.device) if self.data.test_labels is not None else None
        return self.data.test[index].to(self.device), labels

    def interpolation_images(self, n: int, seed: int, label: int | None = None, columns: int = 8) -> torch.Tensor:
        """Rows of latent walks (linear) between two endpoints: prior draws, or two held-out images' codes."""
        rows = max(1, n // columns)
        generator = torch.Generator().manual_seed(seed)
        labels = self.sample_labels(rows, label)
        with self.evaluating():
            if self.has_prior:
                start, end = torch.randn(2, rows, self.latent_dim, generator=generator).to(self.device)
            else:
                images, image_labels = self.held_out(2 * rows, seed)
                codes = self.encode(images, image_labels)
                start, end = codes[:rows], codes[rows:2 * rows]
            weights = torch.linspace(0, 1, columns, device=self.device).view(1, columns, 1)
            walk = (start.unsqueeze(1) * (1 - weights) + end.unsqueeze(1) * weights).flatten(0, 1)  # (R*cols, D)
            walk_labels = labels.repeat_interleave(columns) if labels is not None else None
            return self.decode(walk, walk_labels)

    def reconstruction_pairs(self, n: int, seed: int) -> torch.Tensor:
        """Held-out images each followed by its reconstruction: (2 * (n // 2), C, H, W)."""
        images, labels = self.held_out(max(1, n // 2), seed)
        with self.evaluating():
            reconstructions = self.reconstruct(images, labels if self.conditional else None)
        return torch.stack([images, reconstructions], dim=1).flatten(0, 1)

    def sample_grid(self, n: int = 64, seed: int = 0, label: int | None = None, interpolate: bool = False,
                    reconstruct: bool = False) -> np.ndarray:
        """The picture `gymforge sample` writes: samples, a latent walk, or inputs beside reconstructions."""
        if n <= 0:
            raise UserError(f"--n must be positive, got {n}")
        if reconstruct:
            if label is not None:
                raise UserError("--label does not apply to --reconstruct (inputs keep their own labels)")
            return make_grid(self.reconstruction_pairs(n, seed), columns=2 * max(1, round(math.sqrt(n / 2))))
        if interpolate:
            return make_grid(self.interpolation_images(n, seed, label), columns=8)
        return make_grid(self.sample_images(n, seed, label))

    def translate(self, folder: Any, n: int = 64) -> np.ndarray:
        raise UserError(f"--translate needs a cyclegan run; this is a {type(self).__name__} run")

    def sample(self, n: int = 16, seed: int = 0, label: int | None = None) -> np.ndarray:
        """n samples as (n, H, W, C) uint8 images; the same seed gives the same images (the Python API's)."""
        if n <= 0:
            raise UserError(f"sample(n) needs n > 0, got {n}")
        images = self.sample_images(n, seed, label).clamp(0.0, 1.0)
        return (images * 255.0 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()

    # ---- evaluation and media -----------------------------------------------------------------------
    def eval_seed(self) -> int:
        """The fixed sample stream of validation and the TensorBoard grids: the same latents every time."""
        return stream_seed(self.config.seed, "validation-latents")

    def split_seed(self, split: str) -> int:
        """Validation: the fixed stream, so best.pt compares like with like. Test: a fresh seed per call, so the
        reported figures come from samples that chose nothing."""
        check_split(split)
        return self.eval_seed() if split == "validation" else int.from_bytes(os.urandom(6), "little")

    def split_images(self, split: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The real images (and labels) a split evaluates on: the validation split or the held-out test split,
        neither of which any generator or the judge classifier trains on."""
        check_split(split)
        if split == "validation" and self.data.validation is not None:
            return self.data.validation, self.data.validation_labels
        return self.data.test, self.data.test_labels

    def fid_floor(self, split: str, count: int) -> float:
        """FID of `count` real training images against the split's images: what a generator that reproduced
        the training data would score at this sample count (the real-vs-real floor)."""
        key = (split, count)
        if key not in self._floors:
            reference, _ = self.split_images(split)
            drawn = training_draw(self.data.train, count)
            self._floors[key] = sample_figures(self.classifier, drawn, reference)["fid"]
        return self._floors[key]

    def learned_figures(self, samples: torch.Tensor, reference: torch.Tensor, train: torch.Tensor,
                        floor_key: tuple[str, ...]) -> dict[str, float]:
        """FID and KID of `samples` against the `reference` real images in the learned features, and the
        real-vs-real floor beside each: as many `train` images against the same reference."""
        if len(reference) < 2 or len(samples) < 2:
            raise ConfigError(f"FID and KID need at least 2 images on each side, but {self.data.name}'s evaluated "
                              f"split holds {len(reference)}; add images or raise --validation-fraction / "
                              "--holdout-fraction")
        net = self.feature_net
        real, fake = net.predict(reference.cpu()), net.predict(samples.cpu())  # type: ignore[union-attr]
        if floor_key not in self._learned_floors:
            drawn = net.predict(training_draw(train.cpu(), len(samples)))  # type: ignore[union-attr]
            self._learned_floors[floor_key] = (frechet_distance(drawn, real), kernel_distance(drawn, real))
        fid_floor, kid_floor = self._learned_floors[floor_key]
        return {"fid_learned": frechet_distance(fake, real), "kid_learned": kernel_distance(fake, real),
                "fid_learned_floor": fid_floor, "kid_learned_floor": kid_floor,
                "fid_samples": float(len(samples)), "fid_reference": float(len(reference))}

    def generator_figures(self, split: str = "validation") -> dict[str, float]:
        """FID (with its real-vs-real floor), IS, confidence and class coverage of eval_samples samples against
        the split's real images, judged by the classifier trained on the training split only; conditional models
        draw their labels from the class prior and also report how often the judge agrees with them. Unlabelled
        data has no judge: FID and KID in the learned features, with their floors (learned_figures)."""
        if not self.has_prior or not self.judged:
            return {}
        count = self.config.eval_samples
        seed = self.split_seed(split)
        classifier = self.classifier
        if classifier is None:  # unlabelled data: FID and KID in the features learned without labels
            reference, _ = self.split_images(split)
            return self.learned_figures(self.sample_images(count, seed), reference, self.data.train, (split,))
        labels = self.prior_labels(count, seed)
        samples = self.sample_images(count, seed, labels=labels)
        reference, _ = self.split_images(split)
        figures = sample_figures(classifier, samples.cpu(), reference.cpu(),
                                 labels.cpu() if labels is not None else None)
        figures["fid_floor"] = self.fid_floor(split, count)
        figures["judge_test_accuracy"] = classifier.test_accuracy
        return figures

    def log_media(self, logger: Any, step: int) -> None:
        """Sample grids and reconstructions at every evaluation."""
        count = self.config.grid_size
        if self.has_prior:
            logger.image("samples/grid", make_grid(self.sample_images(count, self.eval_seed())), step, save_png=True)
        try:
            pairs = self.reconstruction_pairs(count, self.eval_seed())
        except UserError:
            return
        logger.image("samples/reconstructions", make_grid(pairs, columns=2 * round(math.sqrt(count / 2))), step)

    def export_module(self) -> Any:
        """The generator as a torch module, latent (B, D) [and labels (B,)] -> images in [0, 1], for `gymforge export`."""
        from gymforge.generative.export import generator_exportable

        if type(self).decode is GenerativeLearner.decode or not self.latent_dim:
            raise ConfigError(f"{self.name} has no latent -> image generator to export (ae, vae and the GANs do)")
        return generator_exportable(self)

    # ---- checkpoint ---------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"batches": self.batches.state_dict()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.batches.load_state_dict(state["batches"])


def training_draw(train: torch.Tensor, count: int) -> torch.Tensor:
    """`count` training images, the same every call (with repeats when there are fewer): the real side of a
    real-vs-real floor."""
    generator = torch.Generator().manual_seed(stream_seed(FIXED, "fid-floor"))
    index = (torch.randperm(len(train), generator=generator)[:count] if count <= len(train)
             else torch.randint(len(train), (count,), generator=generator))
    return train[index]
