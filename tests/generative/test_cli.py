"""The generative side through the command line: train, sample (reproducibly), evaluate, and bad input.

Most calls run `gymforge.cli.main` in-process (fast); the one-line error checks use real subprocesses."""

import json

import pytest

from gymforge.cli import main
from tests.cli.test_bad_input import assert_one_line_error
from tests.helpers import gymforge


@pytest.fixture(scope="module")
def runs(tmp_path_factory, classifier_cache):
    logdir = tmp_path_factory.mktemp("runs")
    assert main(["train", "vae", "--data", "digits", "--steps", "6000", "--eval-every", "3000",
                 "--eval-samples", "200", "--conditional", "--logdir", str(logdir), "--name", "v"]) == 0
    assert main(["train", "dcgan", "--data", "digits", "--steps", "256", "--base-channels", "8",
                 "--logdir", str(logdir), "--name", "g", "--eval-samples", "50"]) == 0
    assert main(["train", "qlearning", "--env", "FrozenLake-v1", "--steps", "500", "--logdir", str(logdir),
                 "--name", "q"]) == 0
    return logdir


def test_sampling_a_saved_run_reproduces_the_grid_for_the_same_seed(runs, tmp_path):
    paths = [tmp_path / f"{name}.png" for name in ("a", "b", "c")]
    for path, seed in zip(paths, ("7", "7", "8")):
        assert main(["sample", str(runs / "v"), "--n", "16", "--seed", seed, "--out", str(path)]) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    for flags in (["--label", "3"], ["--interpolate"], ["--reconstruct"]):
        out = tmp_path / "x.png"
        assert main(["sample", str(runs / "v"), *flags, "--out", str(out)]) == 0
        assert out.stat().st_size > 100
    assert list((runs / "v" / "samples").glob("*.png"))


def test_evaluate_json_prints_the_vae_figures(runs, capsys):
    assert main(["evaluate", str(runs / "v"), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("neg_elbo", "iwae_nll", "fid", "inception_score", "mean_confidence", "min_class_share",
                "fid_samples"):
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


@pytest.mark.parametrize("args, fragments", [
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
