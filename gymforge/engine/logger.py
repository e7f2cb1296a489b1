"""One logging facade over torch.utils.tensorboard with grouped tags: train/, eval/, rollout/, time/."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tensorboard.compat.proto.summary_pb2 import Summary
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams

from gymforge.envs.video import gif_bytes


def wait_for_a_later_file_name(log_dir: Path) -> None:
    """Event files are named events.out.tfevents.<second>...; readers order them by name. A resumed run's file
    must sort after the old one, so within the second the old file was created, wait for the next."""
    seconds = [int(path.name.split(".")[3]) for path in log_dir.glob("events.out.tfevents.*")
               if path.name.split(".")[3].isdigit()]
    if seconds and time.time() < max(seconds) + 1:
        time.sleep(max(seconds) + 1 - time.time())


class Logger:
    """TensorBoard writer for one run. purge_step makes a resumed run drop events logged after its checkpoint;
    media_dir is the one folder it may write image files to (the Run's samples/; None: none)."""

    def __init__(self, log_dir: Path, purge_step: int | None = None, media_dir: Path | None = None) -> None:
        self.log_dir = Path(log_dir)
        self.media_dir = media_dir
        wait_for_a_later_file_name(self.log_dir)
        self.writer = SummaryWriter(str(self.log_dir), purge_step=purge_step, flush_secs=10)

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        for tag, value in metrics.items():
            self.writer.add_scalar(tag, value, step)

    def image(self, tag: str, image: np.ndarray, step: int, save_png: bool = False) -> Path | None:
        """(H, W, 3) uint8 or (H, W) image; save_png also writes media_dir/TAG-STEP.png (returned) when this
        logger has a media folder."""
        self.writer.add_image(tag, image, step, dataformats="HWC" if image.ndim == 3 else "HW")
        if not save_png or self.media_dir is None:
            return None
        path = self.media_dir / f"{tag.replace('/', '-')}-{step:09d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path, format="PNG")
        return path

    def video(self, tag: str, frames: np.ndarray, step: int, fps: float = 30) -> bytes:
        """Log (T, H, W, 3) uint8 frames as an animated GIF (TensorBoard's image tab plays it); returns the GIF."""
        gif = gif_bytes(frames, fps)
        height, width = frames.shape[1:3]
        summary = Summary(value=[Summary.Value(tag=tag, image=Summary.Image(
            height=height, width=width, colorspace=3, encoded_image_string=gif))])
        self.writer._get_file_writer().add_summary(summary, step)
        return gif

    def text(self, tag: str, text: str, step: int = 0) -> None:
        self.writer.add_text(tag, text, step)

    def hyperparameters(self, values: dict[str, Any], metric_tags: list[str]) -> None:
        """Write hyperparameters into this run's own event file (TensorBoard's HPARAMS tab)."""
        plain = {key: value if isinstance(value, (int, float, str, bool)) else str(value)
                 for key, value in values.items()}
        plain = {key: (str(value) if isinstance(value, float) and not math.isfinite(value) else value)
                 for key, value in plain.items()}
        experiment, start, end = hparams(plain, {tag: 0.0 for tag in metric_tags})
        file_writer = self.writer._get_file_writer()
        for summary in (experiment, start, end):
            file_writer.add_summary(summary)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
