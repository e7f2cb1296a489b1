"""The judge of generated images: a small CNN trained once per labelled training set and size, then cached
in cache_dir() ($GYMFORGE_CACHE, else ~/.cache/gymforge) under classifiers/KEY-vVERSION.pt.

Its penultimate features serve FID, its class probabilities the Inception-Score-style figure and the
"samples a person recognises" check (as TF-GAN does for MNIST with its own classifier). Training is
deterministic whatever the caller's thread count: it always runs on one thread, because two threads sum in
another order and give another judge, and so other FIDs. A corrupt or missing cache file only costs the ~20 s
to train it again. A learner gets it through GenerativeLearner.prepare(), which the Trainer calls and logs
before the first step.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import torch
from gymforge.generative.data import ImageData, augment
from gymforge.networks import MLP, ConvEncoder, cross_entropy, make_optimizer
from torch import nn

from gymforge.engine.seeding import torch_threads

VERSION = 1  # bump when the architecture or recipe changes: old cache files are then ignored
FEATURES = 128


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


def get_classifier(data: ImageData) -> tuple[Classifier | None, dict[str, float | str]]:
    """The cached classifier for this dataset and size, trained (and cached) when missing or unreadable, and
    what happened: judge/test_accuracy (held out), judge/source (trained or loaded) and judge/cache (the file).
    (None, {}) for unlabelled data, which has no classes to judge by."""
    if not data.labelled:
        return None, {}
    path = cache_dir() / "classifiers" / f"{data.key}-v{VERSION}.pt"
    model, source = None, "loaded"
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            model = Classifier(data.image_shape, data.num_classes)
            model.load_state_dict(state["model"])
            model.test_accuracy = float(state["test_accuracy"])
        except (OSError, RuntimeError, KeyError, ValueError, EOFError, pickle.UnpicklingError) as error:
            model = None  # a corrupt cache is retrained, never fatal
            print(f"gymforge: retraining the classifier, the cached {path} is unreadable ({type(error).__name__})",
                  file=sys.stderr)
    if model is None:
        print(f"gymforge: training the {data.name} classifier for FID and sample checks (once; cached in {path})",
              file=sys.stderr)
        model, source = train_classifier(data), "trained"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".tmp{os.getpid()}")
            torch.save({"model": model.state_dict(), "test_accuracy": model.test_accuracy}, temporary)
            temporary.replace(path)
        except OSError as error:
            print(f"gymforge: could not cache the classifier in {path} ({error})", file=sys.stderr)
    return model.eval(), {"judge/test_accuracy": model.test_accuracy, "judge/source": source, "judge/cache": str(path)}
