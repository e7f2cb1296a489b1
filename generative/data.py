"""Image datasets for the generative models, read without downloading for the defaults.

Every reader returns (N, H, W, C) uint8 images and optional int labels; `load_data` resizes them to the
config's size, scales to [0, 1] floats (N, C, H, W) and holds out a test split. Data files are read in their
standard binary formats (idx for MNIST, CIFAR-10's binary batches); nothing is ever unpickled.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gymforge.engine.errors import ConfigError
from gymforge.engine.seeding import FIXED, seed_stream

NAMED = ("digits", "mnist", "fashion-mnist", "cifar10")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclass
class ImageData:
    """Train and held-out images as float32 (N, C, H, W) in [0, 1], with int64 labels when the data has them."""

    name: str
    train: torch.Tensor
    test: torch.Tensor
    train_labels: torch.Tensor | None
    test_labels: torch.Tensor | None
    num_classes: int
    key: str
    """Identifies the data, its size, its split and its contents, e.g. for the cached judge classifier."""
    validation: torch.Tensor | None = None
    """Images carved out of the training part, seen by no model: checkpoint selection measures on them."""
    validation_labels: torch.Tensor | None = None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.shape[1:])  # type: ignore[return-value]

    @property
    def labelled(self) -> bool:
        return self.train_labels is not None and self.num_classes > 1


# ---- readers: (N, H, W, C) uint8 and labels ---------------------------------------------------------------
def read_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled handwritten digits: 1797 images, 8x8, 17 grey levels (0..16), labels 0-9.

    The CSV that ships inside scikit-learn is read directly when found (importing sklearn.datasets costs
    over a second per command); load_digits() is the fallback."""
    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec and spec.origin else None
    if path is not None and path.is_file():
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)  # (1797, 65): 64 pixels then the label
        pixels, target = table[:, :-1].reshape(-1, 8, 8), table[:, -1]
    else:
        from sklearn.datasets import load_digits

        digits = load_digits()
        pixels, target = digits.images, digits.target
    images = np.round(pixels * (255.0 / 16.0)).astype(np.uint8)[..., None]  # (1797, 8, 8, 1)
    return images, target.astype(np.int64)


def read_idx(path: Path) -> np.ndarray:
    """An idx file (MNIST's format, optionally gzipped): big-endian magic 0x0000 0x08 ndim, then dims, then bytes."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise ConfigError(f"cannot read {path} ({error}); delete it and fetch it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ConfigError(f"{path} is not an unsigned-byte idx file; delete it and fetch it again")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ConfigError(f"{path} holds {body.size} bytes but its header promises {tuple(dims)}; it is truncated")
    return body.reshape(tuple(dims))


def find_file(folders: list[Path], stem: str) -> Path | None:
    for folder in folders:
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    return None


def read_mnist(root: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST or Fashion-MNIST idx files under root (flat, or torchvision's <Name>/raw layout): train and test."""
    sub = "MNIST" if name == "mnist" else "FashionMNIST"
    folders = [root, root / sub / "raw", root / sub, root / name]
    arrays = []
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        path = find_file(folders, stem)
        if path is None:
            raise ConfigError(f"{name}: no {stem}[.gz] under {root}; put the idx files there or add --download")
        arrays.append(read_idx(path))
    train, train_labels, test, test_labels = arrays
    return train[..., None], train_labels.astype(np.int64), test[..., None], test_labels.astype(np.int64)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 binary batch: records of 1 label byte then 3072 bytes (1024 red, green, blue, row-major)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % 3073:
        raise ConfigError(f"{path} is not a CIFAR-10 binary batch (its size is not a multiple of 3073 bytes)")
    records = raw.reshape(-1, 3073)
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3)
    return np.ascontiguousarray(images), records[:, 0].astype(np.int64)


def read_cifar10(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CIFAR-10's binary version (cifar-10-batches-bin/data_batch_1..5.bin, test_batch.bin)."""
    folder = next((f for f in (root / "cifar-10-batches-bin", root) if (f / "test_batch.bin").is_file()), None)
    if folder is None:
        raise ConfigError(f"cifar10: no cifar-10-batches-bin/test_batch.bin under {root}; unpack the binary "
                          "version there (not the python version) or add --download")
    batches = [read_cifar_batch(path) for path in sorted(folder.glob("data_batch_*.bin"))]
    if not batches:
        raise ConfigError(f"cifar10: no data_batch_*.bin files in {folder}")
    test, test_labels = read_cifar_batch(folder / "test_batch.bin")
    return (np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches]), test, test_labels)


def read_folder(folder: Path) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Every image under a folder (Pillow); images in sub-folders are labelled by sub-folder name."""
    from PIL import Image, UnidentifiedImageError

    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder of images, a frames .npz, or one of: {', '.join(NAMED)}")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not paths:
        raise ConfigError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)}); point --data at a folder of images")
    images = []
    for path in paths:
        try:
            with Image.open(path) as image:
                images.append(np.asarray(image.convert("RGB")))
        except (UnidentifiedImageError, OSError) as error:
            raise ConfigError(f"cannot read image {path} ({type(error).__name__}); remove it or fix it") from None
    first = images[0].shape[:2]
    if any(image.shape[:2] != first for image in images):
        size = max(first)
        images = [np.asarray(Image.fromarray(image).resize((size, size))) for image in images]
    stacked = np.stack(images)  # (N, H, W, 3)
    if all(np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2])
           for image in images[:64]):
        stacked = stacked[..., :1]  # grey images stay one channel
    classes = sorted({p.parent.relative_to(folder).as_posix() for p in paths})
    if len(classes) < 2:
        return stacked, None, []
    index = {name: k for k, name in enumerate(classes)}
    labels = np.array([index[p.parent.relative_to(folder).as_posix()] for p in paths], dtype=np.int64)
    return stacked, labels, classes


def read_frames(path: Path) -> np.ndarray:
    """Frames collected from an environment (envs.save_frames / `gymforge collect`)."""
    from gymforge.envs import EnvError, load_frames

    try:
        frames = load_frames(path)
    except (EnvError, ValueError, OSError) as error:
        raise ConfigError(f"cannot read frames from {path}: {error}") from None
    if frames.ndim != 4 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ConfigError(f"{path} must hold (N, H, W, C) uint8 frames, got {frames.dtype} {frames.shape}")
    return frames


def download(name: str, root: Path) -> None:
    """Fetch a named dataset into root through torchvision (optional dependency), in the formats read here."""
    try:
        import torchvision
        from torchvision.datasets.utils import download_and_extract_archive
    except ImportError:
        raise ConfigError("--download needs torchvision (pip install torchvision); or place the files under "
                          f"{root} yourself") from None
    if name == "cifar10":  # the binary version: never the pickled python one
        download_and_extract_archive("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", str(root))
    else:
        dataset = torchvision.datasets.MNIST if name == "mnist" else torchvision.datasets.FashionMNIST
        for train in (True, False):
            dataset(str(root), train=train, download=True)


# ---- assembling ------------------------------------------------------------------------------------------
def to_tensor(images: np.ndarray, size: int, channels: int) -> torch.Tensor:
    """(N, H, W, C) uint8 -> (N, C', size, size) float32 in [0, 1] (antialiased resize, grey <-> colour)."""
    images = images if images.flags.writeable and images.flags.c_contiguous else np.array(images)
    tensor = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0  # (N, C, H, W)
    if channels == 1 and tensor.shape[1] == 3:
        tensor = (tensor * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    elif channels == 3 and tensor.shape[1] == 1:
        tensor = tensor.expand(-1, 3, -1, -1)
    elif tensor.shape[1] not in (1, 3):
        tensor = tensor[:, :3] if tensor.shape[1] > 3 else tensor[:, :1]
    if tensor.shape[-2:] != (size, size):
        parts = [F.interpolate(chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
                 for chunk in tensor.split(4096)]
        tensor = torch.cat(parts)
    return tensor.clamp(0.0, 1.0).contiguous()


def split(count: int, fraction: float, stream: str) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held) indices: `fraction` held out by the named stream of the FIXED root (the same every seed)."""
    order = np.random.default_rng(seed_stream(FIXED, stream)).permutation(count)
    held = max(1, round(count * fraction))
    return np.sort(order[held:]), np.sort(order[:held])


def content_digest(*arrays: torch.Tensor | None) -> str:
    """A short hash of tensors' bytes: two datasets with the same name but other contents get other keys."""
    digest = hashlib.sha1()
    for array in arrays:
        if array is not None:
            digest.update(np.ascontiguousarray(array.numpy()).tobytes())
    return digest.hexdigest()[:10]


def load_data(data: str, image_size: int, channels: int = 0, holdout_fraction: float = 0.1,
              root: str | Path = "data", allow_download: bool = False,
              validation_fraction: float = 0.1) -> ImageData:
    """Read `data` (a name, a folder or a frames .npz) into train / validation / held-out test tensors.

    The test split is the dataset's own (MNIST, CIFAR-10) or `holdout_fraction` of the images; the validation
    split is `validation_fraction` of what remains, so the training images are the rest. All three are fixed
    (the same for every seed)."""
    root = Path(root)
    test = test_labels = None
    num_classes = 0
    if data == "digits":
        images, labels = read_digits()
        num_classes = 10
    elif data in ("mnist", "fashion-mnist", "cifar10"):
        reader = (lambda: read_cifar10(root)) if data == "cifar10" else (lambda: read_mnist(root, data))
        try:
            images, labels, test, test_labels = reader()
        except ConfigError:
            if not allow_download:
                raise
            download(data, root)
            images, labels, test, test_labels = reader()
        num_classes = 10
    elif data.endswith(".npz"):
        images, labels = read_frames(Path(data)), None
    else:
        images, labels, classes = read_folder(Path(data))
        num_classes = len(classes)
    if len(images) < 2:
        raise ConfigError(f"{data} holds {len(images)} image; a model needs at least a few dozen")
    if test is None:
        train_index, test_index = split(len(images), holdout_fraction, "test-split")
        test = images[test_index]
        test_labels = labels[test_index] if labels is not None else None
        images = images[train_index]
        labels = labels[train_index] if labels is not None else None
    validation = validation_labels = None
    if validation_fraction > 0 and len(images) >= 4:
        train_index, validation_index = split(len(images), validation_fraction, "validation-split")
        validation = images[validation_index]
        validation_labels = labels[validation_index] if labels is not None else None
        images = images[train_index]
        labels = labels[train_index] if labels is not None else None
    train_tensor = to_tensor(images, image_size, channels)
    test_tensor = to_tensor(test, image_size, train_tensor.shape[1])
    validation_tensor = to_tensor(validation, image_size, train_tensor.shape[1]) if validation is not None else None
    as_labels = (lambda a: torch.from_numpy(a)) if labels is not None else (lambda a: None)
    train_labels = as_labels(labels)
    name = data if data in NAMED else Path(data).name
    # the judge classifier is cached under this key: it names the data, its size, and a hash of exactly the
    # training images and labels it learns from (so another split or other contents never reuse it)
    key = f"{name}-{train_tensor.shape[1]}x{image_size}-{content_digest(train_tensor, train_labels)}"
    return ImageData(name, train_tensor, test_tensor, train_labels,
                     as_labels(test_labels) if test_labels is not None else None, num_classes, key,
                     validation_tensor, as_labels(validation_labels) if validation_labels is not None else None)


def augment(images: torch.Tensor, flip: bool, crop_padding: int, noise_std: float,
            generator: torch.Generator) -> torch.Tensor:
    """Random flips, random shifts (pad, then crop back) and Gaussian noise, vectorized over the batch."""
    batch, _, height, width = images.shape
    if flip:
        mask = torch.rand(batch, generator=generator) < 0.5
        images = torch.where(mask.view(-1, 1, 1, 1), images.flip(-1), images)
    if crop_padding > 0:
        padded = F.pad(images, [crop_padding] * 4)  # (B, C, H + 2p, W + 2p), zero borders
        dy = torch.randint(0, 2 * crop_padding + 1, (batch,), generator=generator)
        dx = torch.randint(0, 2 * crop_padding + 1, (batch,), generator=generator)
        rows = (dy.view(-1, 1) + torch.arange(height)).view(batch, height, 1)
        cols = (dx.view(-1, 1) + torch.arange(width)).view(batch, 1, width)
        index = torch.arange(batch).view(-1, 1, 1)
        images = padded.permute(0, 2, 3, 1)[index, rows, cols].permute(0, 3, 1, 2)  # (B, C, H, W)
    if noise_std > 0:
        images = (images + noise_std * torch.randn(images.shape, generator=generator)).clamp(0.0, 1.0)
    return images.contiguous()


class Batches:
    """Shuffled minibatches of a tensor dataset (whole epochs, reshuffled each time), without a DataLoader."""

    def __init__(self, count: int, batch_size: int, seed: int) -> None:
        self.count, self.batch_size = count, min(batch_size, count)
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(count, generator=self.generator)
        self.position = 0

    def next_indices(self) -> torch.Tensor:
        if self.position + self.batch_size > self.count:
            self.order = torch.randperm(self.count, generator=self.generator)
            self.position = 0
        indices = self.order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        return indices

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "order": self.order.clone(), "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.order, self.position = state["order"].clone(), int(state["position"])
