"""Frame datasets: collected shapes, bad input, npz round trip with metadata, a torch-free dataset."""

import numpy as np
import pytest
from gymforge.envs import EnvError, FrameDataset, collect_frames, frames_metadata, load_frames, save_frames


def test_collect_rendered_frames():
    frames = collect_frames("gymforge/Catch-v0", 30, size=16, progress=False)
    assert frames.shape == (30, 16, 16, 3) and frames.dtype == np.uint8 and frames.std() > 0


def test_collect_image_observations_channel_last():
    frames = collect_frames("gymforge/Catch-v0", 25, size=20, source="observation", progress=False)
    assert frames.shape == (25, 20, 20, 1) and set(np.unique(frames)) <= {0, 255}


def test_collect_with_a_policy_and_same_seed_same_frames():
    stay = collect_frames("gymforge/Catch-v0", 20, size=10, policy=lambda obs: 1, source="observation", progress=False)
    # With "stay", the paddle never leaves the centre of the bottom row.
    assert np.all(stay[:, -1, 5, 0] == 255)
    first = collect_frames("gymforge/GridWorld-v0", 40, size=8, seed=3, progress=False)
    np.testing.assert_array_equal(first, collect_frames("gymforge/GridWorld-v0", 40, size=8, seed=3, progress=False))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frames": 0}, "number of frames must be positive"),
        ({"frames": -5}, "number of frames must be positive"),
        ({"frames": 5, "size": 0}, "frame size must be positive"),
        ({"frames": 5, "source": "pixels"}, "source must be 'render' or 'observation'"),
    ],
)
def test_bad_arguments_are_env_errors(kwargs, message):
    with pytest.raises(EnvError, match=message):
        collect_frames("gymforge/Catch-v0", **kwargs)


def test_vector_observations_are_not_images():
    with pytest.raises(EnvError, match="not an image; collect with source='render'"):
        collect_frames("CartPole-v1", 5, source="observation", progress=False)


def test_save_and_load_round_trip(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, size=(12, 8, 8, 3), dtype=np.uint8)
    path = save_frames(tmp_path / "frames", frames, env_id="gymforge/Catch-v0", size=8)
    assert path.suffix == ".npz"
    np.testing.assert_array_equal(load_frames(path), frames)
    assert frames_metadata(path) == {"env_id": "gymforge/Catch-v0", "size": 8}


def test_loading_a_missing_or_foreign_file(tmp_path):
    with pytest.raises(EnvError, match="No frame file"):
        load_frames(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", images=np.zeros(3))
    with pytest.raises(EnvError, match="holds no 'frames' array"):
        load_frames(tmp_path / "other.npz")
    with pytest.raises(EnvError, match="uint8"):
        save_frames(tmp_path / "bad.npz", np.zeros((2, 4, 4, 3), dtype=np.float32))


def test_frame_dataset_items_are_float_chw_in_unit_range(tmp_path):
    frames = np.random.default_rng(1).integers(0, 256, size=(5, 6, 7, 3), dtype=np.uint8)
    for source in (frames, save_frames(tmp_path / "d.npz", frames)):
        dataset = FrameDataset(source)
        assert len(dataset) == 5 and dataset.image_shape == (3, 6, 7)
        item = dataset[2]
        assert item.shape == (3, 6, 7) and item.dtype == np.float32
        assert 0.0 <= item.min() and item.max() <= 1.0
        np.testing.assert_allclose(item * 255.0, frames[2].transpose(2, 0, 1), atol=1e-3)
