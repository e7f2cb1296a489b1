"""The config every generative model shares: which data, at what size, how it is batched and augmented.

`steps` counts training images seen (samples, not batches), so budgets compare across batch sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

from gymforge.engine.config import TrainConfig
from gymforge.engine.errors import require


@dataclass
class GenerativeConfig(TrainConfig):
    """Fields shared by every generative model (autoencoders, VAEs, GANs)."""

    steps: int = 200_000
    """Training budget in images seen (not batches)."""
    eval_every: int = 50_000
    """Evaluate, log sample grids and reconstructions every this many images."""
    checkpoint_every: int = 50_000
    data: str = "digits"
    """digits (bundled with scikit-learn, no download), mnist, fashion-mnist, cifar10, a folder of images,
    or a frames .npz written by `gymforge collect`."""
    data_root: str = "data"
    """Folder holding the MNIST / Fashion-MNIST idx files or CIFAR-10's binary batches."""
    download: bool = False
    """Download mnist / fashion-mnist / cifar10 into data_root when missing (needs torchvision and a network)."""
    image_size: int = 16
    """Images are resized to image_size x image_size (a multiple of 4, at least 8)."""
    channels: int = 0
    """Image channels: 1 (grey) or 3 (colour); 0 keeps the dataset's own."""
    holdout_fraction: float = 0.1
    """Fraction of the images held out as the test split (`gymforge evaluate`; the same for every seed); datasets
    with their own test split (mnist, fashion-mnist, cifar10) keep it."""
    validation_fraction: float = 0.1
    """Fraction of the remaining images kept apart for validation (choosing best.pt); no model trains on them."""
    batch_size: int = 128
    """Images per training batch."""
    learning_rate: float = 1e-3
    """Adam step size."""
    flip: bool = False
    """Augmentation: random horizontal flips (off for digits, whose mirror images are not digits)."""
    crop_padding: int = 0
    """Augmentation: pad by this many pixels and crop back at a random offset (random shifts)."""
    noise_std: float = 0.0
    """Augmentation: Gaussian noise of this std added to training inputs (clamped to [0, 1])."""
    eval_samples: int = 1000
    """Samples drawn per evaluation for FID, IS and the classifier figures; they are compared with every image of
    the evaluated split (validation or test), and the real-vs-real floor uses as many training images."""
    grid_size: int = 64
    """Images per TensorBoard grid."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.image_size >= 8 and self.image_size % 4 == 0,
                f"--image-size must be a multiple of 4 and at least 8, got {self.image_size}")
        require(self.channels in (0, 1, 3), f"--channels must be 0 (the dataset's own), 1 or 3, got {self.channels}")
        require(0.0 < self.holdout_fraction < 0.5,
                f"--holdout-fraction must be in (0, 0.5), got {self.holdout_fraction}")
        require(0.0 < self.validation_fraction < 0.5,
                f"--validation-fraction must be in (0, 0.5), got {self.validation_fraction}")
        require(self.batch_size > 0, f"--batch-size must be positive, got {self.batch_size}")
        require(self.learning_rate > 0, f"--learning-rate must be positive, got {self.learning_rate}")
        require(self.crop_padding >= 0, f"--crop-padding must be >= 0, got {self.crop_padding}")
        require(self.noise_std >= 0, f"--noise-std must be >= 0, got {self.noise_std}")
        require(self.eval_samples >= 10, f"--eval-samples must be at least 10, got {self.eval_samples}")
        require(self.grid_size > 0, f"--grid-size must be positive, got {self.grid_size}")

    @property
    def subject(self) -> str:
        from pathlib import Path

        return Path(self.data).stem if ("/" in self.data or self.data.endswith(".npz")) else self.data
