"""The generative side through the command line: train, sample (reproducibly), evaluate, and bad input.

Most calls run `gymforge.app.cli.main` in-process (fast); the one-line error checks use real subprocesses."""

import json

import pytest

from gymforge.app.cli import main
from tests.cli.test_bad_input import assert_one_line_error
from tests.helpers import gymforge


@pytest.fixture(scope="module")
def runs(tmp_path_factory, classifier_cache):
    logdir = tmp_path_factory.mktemp("runs")
    assert main(["train", "vae", "--data", "digits", "--steps", "6000", "--eval-every", "3000",
                 "--eval-samples", "200", "--conditional", "--logdir", str(logdir), "--name", "v"]) == 0
    assert main(["train", "dcgan", "--data", "digits", "--steps", "256", "--base-channels", "8", "--keep-every",
                 "128", "--logdir", str(logdir), "--name", "g", "--eval-samples", "50"]) == 0
    assert main(["train", "qlearning", "--env", "FrozenLake-v1", "--steps", "500", "--logdir", str(logdir),
                 "--name", "q"]) == 0
    return logdir


def test_sampling_a_saved_run_reproduces_the_grid_for_the_same_seed(runs, tmp_path):
    paths = [tmp_path / f"{name}.png" for name in ("a", "b", "c")]
    for path, seed in zip(paths, ("7", "7", "8")):
        assert main(["sample", str(runs / "v"), "--n", "16", "--seed", seed, "--out", str(path)]) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    assert list((runs / "v" / "samples").glob("*.png"))


def read_grid(path, size=16, padding=1, scale=4):
    """A PNG grid written by `gymforge sample` cut back into its (N, 1, size, size) images in [0, 1]."""
    import numpy as np
    import torch
    from PIL import Image

    grid = torch.from_numpy(np.asarray(Image.open(path))[..., 0].astype(np.float32) / 255)[::scale, ::scale]
    rows, columns = (grid.shape[0] - padding) // (size + padding), (grid.shape[1] - padding) // (size + padding)
    return torch.stack([grid[padding + r * (size + padding):][:size, padding + c * (size + padding):][:, :size]
                        for r in range(rows) for c in range(columns)]).unsqueeze(1)


def test_sample_flags_draw_what_they_name(runs, tmp_path):
    """--label K draws class K from the model, --interpolate walks between two endpoints, --reconstruct pairs
    inputs with their reconstructions: each PNG is compared with what the model itself gives."""
    import torch

    from gymforge.app.api import load_learner

    learner = load_learner(runs / "v")
    for flags in (["--label", "3"], ["--label", "8"], ["--interpolate"], ["--reconstruct"]):
        out = tmp_path / "x.png"
        assert main(["sample", str(runs / "v"), *flags, "--n", "16", "--seed", "5", "--out", str(out)]) == 0
        images = read_grid(out)
        if flags[0] == "--label":
            images = images[:16]
            expected = learner.sample_images(16, 5, label=int(flags[1]))
            other = learner.sample_images(16, 5, label=(int(flags[1]) + 1) % 10)
            assert (images - other).abs().mean() > 0.005  # another class gives other images for the same latents
        elif flags[0] == "--interpolate":
            expected = learner.interpolation_images(16, 5)
            start, end = torch.randn(2, 2, learner.latent_dim, generator=torch.Generator().manual_seed(5))
            labels = learner.sample_labels(2, None)
            with learner.evaluating():  # the two endpoints of each row decode to its first and last image
                assert torch.allclose(expected[[0, 8]], learner.decode(start, labels), atol=1e-5)
                assert torch.allclose(expected[[7, 15]], learner.decode(end, labels), atol=1e-5)
        else:
            expected = learner.reconstruction_pairs(16, 5)
            held_out, _ = learner.held_out(8, 5)
            assert torch.allclose(expected[0::2], held_out)
        assert torch.allclose(images[:len(expected)], expected, atol=1 / 255 + 1e-6), flags  # the rest is padding


def test_a_conditional_mlp_gan_trains_and_samples_a_label(tmp_path):
    """`gymforge train gan --conditional` once crashed with a traceback (the generator had no room for the label)."""
    assert main(["train", "gan", "--conditional", "--steps", "256", "--eval-samples", "50", "--logdir",
                 str(tmp_path), "--name", "c"]) == 0
    assert main(["sample", str(tmp_path / "c"), "--label", "4", "--out", str(tmp_path / "four.png")]) == 0


def test_a_zero_padded_step_checkpoint_is_found_by_its_step(runs, capsys):
    """The Trainer writes step-000000128.pt; the documented --checkpoint step-128 must find it."""
    assert (runs / "g" / "checkpoints" / "step-000000128.pt").is_file()
    for name in ("step-128", "step-000000128"):
        assert main(["evaluate", str(runs / "g"), "--checkpoint", name, "--json"]) == 0
    assert main(["evaluate", str(runs / "g"), "--checkpoint", "step-100"]) == 2


def test_evaluate_json_prints_the_vae_figures(runs, capsys):
    assert main(["evaluate", str(runs / "v"), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("neg_elbo", "iwae_nll", "neg_elbo_mc_stderr", "iwae_samples", "fid", "fid_floor", "fid_reference",
                "inception_score", "mean_confidence", "min_class_share", "conditional_accuracy", "fid_samples"):
        assert key in figures
    assert figures["iwae_nll"] <= figures["neg_elbo"]


@pytest.mark.parametrize("run, flags, fragments", [
    ("v", ["--label", "12"], ["--label must be in 0..9"]),
    ("v", ["--translate", "."], ["needs a cyclegan run"]),
    ("v", ["--out", "x.jpg"], [".png"]),
    ("none", [], ["does not exist"]),
    ("q", [], ["agent run", "gymforge watch"]),
    ("g", ["--label", "1"], ["needs a conditional model"]),
    ("g", ["--reconstruct"], ["no encoder"]),
])
def test_sample_refuses_bad_requests_in_one_line(runs, run, flags, fragments, capsys):
    assert main(["sample", str(runs / run), *flags]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and all(fragment in lines[0] for fragment in fragments), lines


def test_evaluate_refuses_episodes_on_a_generative_run(runs, capsys):
    assert main(["evaluate", str(runs / "g"), "--episodes", "3"]) == 2
    assert "--episodes applies to agent runs" in capsys.readouterr().err


def test_a_user_mistake_in_a_real_process_is_one_line(runs):
    assert_one_line_error(gymforge("sample", str(runs / "g"), "--label", "1"), "needs a conditional model")
    assert_one_line_error(gymforge("train", "wgan-gp", "--critic-shift", "2"), "drop --critic-shift")


@pytest.mark.parametrize("args, fragments", [
    (["train", "gan", "--critic-batch-norm"], ["no batch norm", "--critic-batch-norm"]),
    (["train", "wgan-gp", "--critic-shift", "2"], ["--critic-shift"]),
    (["train", "wgan-gp", "--label-smoothing", "0.1"], ["--label-smoothing"]),
    (["train", "vae", "--data", "nowhere/at/all"], ["not a folder of images"]),
    (["train", "vae", "--image-size", "10"], ["--image-size must be a multiple of 4"]),
    (["train", "cgan", "--data", "EMPTY"], ["holds no images"]),
])
def test_bad_data_gets_one_clear_line(args, fragments, tmp_path, capsys):
    args = [str(tmp_path) if arg == "EMPTY" else arg for arg in args]
    assert main([*args, "--logdir", str(tmp_path / "runs")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and all(fragment in lines[0] for fragment in fragments), lines


def test_tensorboard_gets_grids_and_every_network_loss(runs):
    from tests.helpers import event_tags

    vae, gan = event_tags(runs / "v"), event_tags(runs / "g")
    assert {"samples/grid", "samples/reconstructions"} <= set(vae["images"])
    assert {"train/loss", "train/kl_nats", "eval/neg_elbo", "eval/iwae_nll", "eval/fid"} <= set(vae["scalars"])
    assert "samples/grid" in gan["images"]
    assert {"train/loss_generator", "train/loss_discriminator", "eval/fid"} <= set(gan["scalars"])


def test_a_gan_on_an_unlabelled_image_folder_reports_learned_fid_and_kid_with_their_floor_and_writes_best(
        tmp_path, capsys):
    """An image folder without class sub-folders has no judge: FID and KID come from features learned on its
    training split without labels, beside the real-vs-real floor, and the FID chooses best.pt."""
    import numpy as np
    from PIL import Image

    folder = tmp_path / "blobs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(60):  # a bright square somewhere on a dark background
        image = np.zeros((8, 8), np.uint8)
        row, column = rng.integers(0, 5, 2)
        image[row:row + 3, column:column + 3] = 255
        Image.fromarray(image).save(folder / f"{index}.png")
    assert main(["train", "dcgan", "--data", str(folder), "--image-size", "8", "--steps", "64", "--batch-size", "16",
                 "--eval-every", "32", "--base-channels", "4", "--eval-samples", "20", "--logdir", str(tmp_path),
                 "--name", "g"]) == 0
    assert "features/source trained" in capsys.readouterr().err  # prepare() learned the features and said so
    run = tmp_path / "g"
    summary = json.loads((run / "summary.json").read_text())
    assert (run / "checkpoints" / "best.pt").is_file()
    assert summary["score_key"] == "fid_learned" and summary["best_selection_score"] is not None
    for figures in (summary["last_eval"], summary["final_eval"]):
        assert {"fid_learned", "kid_learned", "fid_learned_floor", "kid_learned_floor"} <= set(figures), figures
        # 64 images of training make noise, not squares: farther from the held-out images than real ones are
        assert figures["fid_learned"] > figures["fid_learned_floor"] >= 0.0
        assert figures["kid_learned"] > figures["kid_learned_floor"]
        assert figures["fid_samples"] == 20
