"""A history of generated images for the discriminators (Shrivastava et al. 2017, used by CycleGAN).

Showing the discriminator some older fakes beside the newest ones keeps it from chasing only the
generator's latest output, which damps the oscillation of the two. CycleGAN keeps 50 images: while the pool
fills, every new image goes in and is shown as is; once full, each new image is, with probability 1/2,
swapped for a random stored one (which is shown instead) or shown itself.
"""

from __future__ import annotations

from typing import Any

import torch


class ImagePool:
    """Up to `size` past generated images; `query(batch)` returns a batch of the same shape to show the critic."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.images: torch.Tensor | None = None  # (n <= size, C, H, W), detached
        self.generator = torch.Generator().manual_seed(seed)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        images = images.detach()
        if self.size == 0:
            return images
        shown = images.clone()
        for i, image in enumerate(images):
            stored = 0 if self.images is None else len(self.images)
            if stored < self.size:  # still filling: keep it and show it
                self.images = image[None].clone() if self.images is None else torch.cat([self.images, image[None]])
            elif torch.rand((), generator=self.generator) < 0.5:  # show an old one, keep the new one in its place
                slot = int(torch.randint(self.size, (), generator=self.generator))
                shown[i] = self.images[slot]
                self.images[slot] = image
        return shown

    def state_dict(self) -> dict[str, Any]:
        return {"images": self.images, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.images = None if state["images"] is None else state["images"].clone()
        self.generator.set_state(state["generator"])
