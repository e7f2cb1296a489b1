"""The judge of generated images: a small CNN trained once per labelled training set and size, then cached
in cache_dir() ($GYMFORGE_CACHE, else ~/.cache/gymforge) under classifiers/KEY-vVERSION.pt.

Its penultimate features serve FID, its class probabilities the Inception-Score-style figure and the
"samples a person recognises" check (as TF-GAN does for MNIST with its own classifier). Training is
deterministic whatever the caller's thread count: it always runs on one thread, because two threads sum in
another order and give another judge, and so other FIDs. A corrupt or missing cache file only costs the ~20 s
to train it again. A learner gets it through GenerativeLearner.prepare(), which the Trainer calls and logs
before the first step.

Unlabelled data (an image folder without class sub-folders, collected frames) has no classes to train a judge
on. Its figures use a small conv autoencoder instead, trained on the training split alone and cached the same
way under features/: FID and KID in its code space, beside the same figures for held-out real images.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from gymforge.generative.data import ImageData, augment, content_digest
from gymforge.networks import MLP, ConvDecoder, ConvEncoder, cross_entropy, make_optimizer
from torch import nn

from gymforge.engine.seeding import torch_threads

VERSION = 1  # bump when the architecture or recipe changes: old cache files are then ignored
FEATURES = 128
CODE = 64  # the feature net's code size (unlabelled data)


def cache_dir() -> Path:
    """$GYMFORGE_CACHE, else ~/.cache/gymforge."""
    return Path(os.environ.get("GYMFORGE_CACHE") or Path.home() / ".cache" / "gymforge")


class Classifier(nn.Module):
    """Two conv blocks with max pooling, then a 128-unit feature layer and the class logits."""

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        self.image_shape, self.num_classes = tuple(image_shape), num_classes
        self.encoder = ConvEncoder(image_shape, channels=(32, 64), kernel_sizes=3, paddings=1, batch_norm=True,
                                   pooling="max")
        self.body = MLP(self.encoder.output_dim, (FEATURES,), dropout=0.2)
        self.head = nn.Linear(FEATURES, num_classes)
        self.test_accuracy = 0.0

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> (B, 128)."""
        return self.body(self.encoder(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, classes) logits."""
        return self.head(self.features(images))

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """(features (N, 128), probabilities (N, classes)) in eval mode."""
        self.eval()
        features = torch.cat([self.features(chunk) for chunk in images.split(batch_size)])
        return features, torch.softmax(self.head(features), dim=1)


def train_classifier(data: ImageData, epochs: int = 30, seed: int = 0) -> Classifier:
    """Adam on the training split with random 1-pixel shifts, on one thread whatever the caller's count (the
    same judge on every machine and xdist worker); reports held-out accuracy."""
    with torch.random.fork_rng(), torch_threads(1):
        torch.manual_seed(seed)
        model = Classifier(data.image_shape, data.num_classes)
        optimizer = make_optimizer("adam", model, lr=2e-3)
        generator = torch.Generator().manual_seed(seed)
        images, labels = data.train, data.train_labels
        steps_per_epoch = max(1, len(images) // 128)
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(images), generator=generator)
            for step in range(steps_per_epoch):
                index = order[step * 128:(step + 1) * 128]
                batch = augment(images[index], False, max(1, data.image_shape[1] // 16), 0.0, generator)
                loss = cross_entropy(model(batch), labels[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        _, probabilities = model.predict(data.test)
        model.test_accuracy = float((probabilities.argmax(1) == data.test_labels).float().mean())
    return model


def cached_model(path: Path, empty: Callable[[], nn.Module], train: Callable[[], nn.Module], what: str,
                 figure: str) -> tuple[nn.Module, str]:
    """The model cached in `path` (its state and one float attribute, `figure`), else trained by `train()` and
    cached; a corrupt cache is retrained, never fatal. Returns it in eval mode and "loaded" or "trained"."""
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            model = empty()
            model.load_state_dict(state["model"])
            setattr(model, figure, float(state[figure]))
            return model.eval(), "loaded"
        except (OSError, RuntimeError, KeyError, ValueError, EOFError, pickle.UnpicklingError) as error:
            print(f"gymforge: retraining the {what.split(' for ')[0]}, the cached {path} is unreadable "
                  f"({type(error).__name__})", file=sys.stderr)
    print(f"gymforge: training the {what} (once; cached in {path})", file=sys.stderr)
    model = train()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        torch.save({"model": model.state_dict(), figure: getattr(model, figure)}, temporary)
        temporary.replace(path)
    except OSError as error:
        print(f"gymforge: could not cache the {what.split(' for ')[0]} in {path} ({error})", file=sys.stderr)
    return model.eval(), "trained"


def get_classifier(data: ImageData) -> tuple[Classifier | None, dict[str, float | str]]:
    """The cached classifier for this dataset and size, trained (and cached) when missing or unreadable, and
    what happened: judge/test_accuracy (held out), judge/source (trained or loaded) and judge/cache (the file).
    (None, {}) for unlabelled data, which has no classes to judge by."""
    if not data.labelled:
        return None, {}
    path = cache_dir() / "classifiers" / f"{data.key}-v{VERSION}.pt"
    model, source = cached_model(path, lambda: Classifier(data.image_shape, data.num_classes),
                                 lambda: train_classifier(data), f"{data.name} classifier for FID and sample checks",
                                 "test_accuracy")
    return model, {"judge/test_accuracy": model.test_accuracy, "judge/source": source,  # type: ignore[dict-item]
                   "judge/cache": str(path)}


# ---- features without labels ------------------------------------------------------------------------------
class FeatureNet(nn.Module):
    """A small conv autoencoder; its 64-unit code is the feature space of FID/KID on data without labels."""

    def __init__(self, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.encoder = ConvEncoder(image_shape, channels=(16, 32), kernel_sizes=4, strides=2, paddings=1)
        self.code = nn.Linear(self.encoder.output_dim, CODE)
        self.decoder = ConvDecoder.mirror(self.encoder, CODE)
        self.test_error = 0.0

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> (B, 64)."""
        return self.code(self.encoder(images))

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        self.eval()
        return torch.cat([self.features(chunk) for chunk in images.split(batch_size)])

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(self.features(images)))


def train_feature_net(train: torch.Tensor, test: torch.Tensor, steps: int = 300, seed: int = 0) -> FeatureNet:
    """Adam on reconstructing the training images (no labels), on one thread (the same features everywhere);
    records the held-out reconstruction error (mean squared, per pixel)."""
    with torch.random.fork_rng(), torch_threads(1):
        torch.manual_seed(seed)
        model = FeatureNet(tuple(train.shape[1:]))  # type: ignore[arg-type]
        optimizer = make_optimizer("adam", model, lr=2e-3)
        generator = torch.Generator().manual_seed(seed)
        model.train()
        for _ in range(steps):
            batch = train[torch.randint(len(train), (min(64, len(train)),), generator=generator)]
            loss = nn.functional.mse_loss(model.reconstruct(batch), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            model.eval()
            model.test_error = float(nn.functional.mse_loss(model.reconstruct(test), test))
    return model


def get_feature_net(name: str, train: torch.Tensor,
                    test: torch.Tensor) -> tuple[FeatureNet, dict[str, float | str]]:
    """The feature net learned from exactly these training images, cached by their contents like the judge, and
    what happened: features/test_reconstruction_error (held out), features/source and features/cache."""
    key = f"{name}-{train.shape[1]}x{train.shape[2]}-{content_digest(train)}"
    path = cache_dir() / "features" / f"{key}-v{VERSION}.pt"
    model, source = cached_model(path, lambda: FeatureNet(tuple(train.shape[1:])),  # type: ignore[arg-type]
                                 lambda: train_feature_net(train, test),
                                 f"{name} feature net for FID and KID without labels", "test_error")
    return model, {"features/test_reconstruction_error": model.test_error,  # type: ignore[dict-item]
                   "features/source": source, "features/cache": str(path)}
