"""The Logger's media: an episode video is an animated GIF image summary in the event file, and PNGs go to
the one media folder it was given (the Run's samples/)."""

import io

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gymforge.engine.logger import Logger
from gymforge.engine.run import Run


def frames(count: int = 5, size: int = 12) -> np.ndarray:
    """(T, H, W, 3) frames of a square moving right."""
    video = np.zeros((count, size, size, 3), dtype=np.uint8)
    for index in range(count):
        video[index, 4:8, index:index + 4] = (255, 128, 0)
    return video


def images(log_dir, tag):
    accumulator = EventAccumulator(str(log_dir), size_guidance={"images": 0})
    accumulator.Reload()
    return accumulator.Images(tag)


def test_video_is_an_animated_gif_image_summary(tmp_path):
    logger = Logger(tmp_path)
    video = frames()
    gif = logger.video("eval/episode", video, step=100, fps=10)
    logger.close()
    (event,) = images(tmp_path, "eval/episode")
    assert event.step == 100 and (event.width, event.height) == (12, 12)
    assert event.encoded_image_string == gif
    with Image.open(io.BytesIO(event.encoded_image_string)) as image:
        assert image.format == "GIF" and image.n_frames == 5 and image.info["duration"] == 100
        image.seek(4)
        assert np.array_equal(np.asarray(image.convert("RGB")), video[4])


def test_pngs_go_to_the_runs_samples_folder_only(tmp_path):
    grid = frames(1)[0]
    run = Run(tmp_path / "run", "vae")
    logger = Logger(run.path, media_dir=run.samples)
    assert logger.image("samples/grid", grid, 7) is None  # TensorBoard only
    path = logger.image("samples/grid", grid, 8, save_png=True)
    logger.close()
    assert path == run.samples / "samples-grid-000000008.png"
    assert [p.name for p in run.samples.iterdir()] == [path.name]
    assert np.array_equal(np.asarray(Image.open(path)), grid)
    assert [event.step for event in images(run.path, "samples/grid")] == [7, 8]
    assert Logger(tmp_path / "other").image("samples/grid", grid, 1, save_png=True) is None  # no media folder
