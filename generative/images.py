"""Image grids for TensorBoard and `gymforge sample`, and writing them as PNG."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def make_grid(images: torch.Tensor, columns: int | None = None, padding: int = 1, scale: int = 1) -> np.ndarray:
    """(N, C, H, W) in [0, 1] -> (H', W', 3) uint8 grid, `columns` wide (default square), upscaled `scale` times."""
    images = images.detach().float().cpu().clamp(0.0, 1.0)
    count, channels, height, width = images.shape
    if channels == 1:
        images = images.expand(-1, 3, -1, -1)
    columns = columns or max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / columns)
    grid = torch.full((3, rows * (height + padding) + padding, columns * (width + padding) + padding), 0.5)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        grid[:, top:top + height, left:left + width] = images[index, :3]
    array = (grid.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)  # (H', W', 3)
    if scale > 1:
        array = array.repeat(scale, axis=0).repeat(scale, axis=1)
    return array


def save_png(path: str | Path, grid: np.ndarray) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(path, format="PNG")
    return path
