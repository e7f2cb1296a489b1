"""The `gymforge` command: train, evaluate, watch, sample, dream, runs, board, list. A thin layer over gymforge.app.api.

Hyperparameter flags come from each algorithm's config dataclass (tyro), so no option is written twice.
User mistakes print one line on stderr and exit 2; nothing a user can cause prints a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from gymforge.engine.errors import NonFiniteError, UserError
from gymforge.envs.errors import EnvError

TRAIN_USAGE = """usage: gymforge train ALGO [--env ID] [--steps N] [--seed S] [hyperparameter flags]
                      [--preset NAME|auto|none] [--name NAME] [--logdir DIR] [--config FILE]
       gymforge train --resume RUN_DIR [--steps N]

run options:
  --name NAME        run folder name (default <algo>-<env>-<timestamp>)
  --logdir DIR       where run folders go (default runs)
  --config FILE      YAML of options (a run's config.yaml repeats that run); flags override it
  --preset NAME      tuned options for an environment; auto (default) uses the one named after --env
  --resume RUN_DIR   continue a run from its last checkpoint, same TensorBoard curves
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv:
        parser.print_help()
        return 2
    if not (argv[0] == "watch" and "--record" not in argv):  # only a live watch needs a real window
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        if argv[0] == "train":
            return command_train(argv[1:])
        args = parser.parse_args(argv)
        return args.handler(args)
    except NonFiniteError as error:
        print(f"gymforge: error: {error}", file=sys.stderr)
        return 1
    except (UserError, EnvError) as error:
        print(f"gymforge: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gymforge: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as error:  # torchrun: a lost peer ends this rank with one line, not a traceback
        line = distributed_failure_line(error)
        if line is None:
            raise
        print(line, file=sys.stderr)
        return 1


def distributed_failure_line(error: BaseException) -> str | None:
    if "gymforge.engine.distributed" not in sys.modules:
        return None
    return sys.modules["gymforge.engine.distributed"].failure_line(error)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gymforge", description="Reinforcement learning and generative "
                                     "models around Gymnasium environments, on one trainer.")
    commands = parser.add_subparsers(metavar="COMMAND")
    commands.add_parser("train", help="train an algorithm (gymforge train ALGO --help for its flags)")

    evaluate = commands.add_parser("evaluate", help="evaluate a trained run on held-out (test) episodes or data")
    evaluate.add_argument("run_dir", type=Path)
    evaluate.add_argument("--episodes", type=int, default=None, help="episodes (default: the run's eval_episodes)")
    evaluate.add_argument("--seed", type=int, default=None,
                          help="seed of the test episode stream (default: the run's seed); agent runs only")
    evaluate.add_argument("--checkpoint", default="best", help="best (default), last or step-N")
    evaluate.add_argument("--json", action="store_true", help="last line is one JSON object of the figures")
    evaluate.set_defaults(handler=command_evaluate)

    watch = commands.add_parser("watch", help="watch a trained agent in a pygame window, or record it")
    watch.add_argument("run_dir", type=Path)
    watch.add_argument("--episodes", type=int, default=3)
    watch.add_argument("--checkpoint", default="best")
    watch.add_argument("--record", type=Path, default=None, help="write FILE.gif or FILE.mp4 instead (headless)")
    watch.add_argument("--seed", type=int, default=None, help="seed of the first episode")
    watch.set_defaults(handler=command_watch)

    sample = commands.add_parser("sample", help="a PNG grid from a trained generative run")
    sample.add_argument("run_dir", type=Path)
    sample.add_argument("--n", type=int, default=64, help="images in the grid (default 64)")
    sample.add_argument("--out", type=Path, default=Path("grid.png"), help="PNG file to write (default grid.png)")
    sample.add_argument("--seed", type=int, default=0, help="the same seed gives the same grid")
    sample.add_argument("--label", type=int, default=None, help="class of every sample (conditional models)")
    sample.add_argument("--interpolate", action="store_true", help="rows of latent walks between two points")
    sample.add_argument("--reconstruct", action="store_true", help="held-out inputs beside their reconstructions")
    sample.add_argument("--translate", type=Path, default=None, metavar="FOLDER",
                        help="translate the images of FOLDER (cyclegan): inputs beside translations")
    sample.add_argument("--scale", type=int, default=4, help="upscale the grid N times, pixels kept sharp "
                        "(default 4: small images stay visible)")
    sample.add_argument("--checkpoint", default="best")
    sample.set_defaults(handler=command_sample)

    runs = commands.add_parser("runs", help="a table of runs and their results")
    runs.add_argument("--logdir", type=Path, default=Path("runs"))
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(handler=command_runs)

    board = commands.add_parser("board", help="start TensorBoard on the runs and print its address")
    board.add_argument("--logdir", type=Path, default=Path("runs"))
    board.add_argument("--port", type=int, default=6006)
    board.set_defaults(handler=command_board)

    collect = commands.add_parser("collect", help="record a dataset of environment frames (.npz)")
    collect.add_argument("--env", required=True, help="environment id")
    collect.add_argument("--frames", type=int, required=True, help="how many frames")
    collect.add_argument("--out", type=Path, required=True, help="output FILE.npz")
    collect.add_argument("--size", type=int, default=64, help="square frame size in pixels (default 64)")
    collect.add_argument("--policy", default="random", help="random (default) or a trained agent's RUN_DIR")
    collect.add_argument("--source", choices=["render", "observation"], default="render",
                         help="rendered RGB frames (default) or the image observations themselves")
    collect.add_argument("--seed", type=int, default=0)
    collect.set_defaults(handler=command_collect)

    add_tune_parser(commands)
    export = commands.add_parser("export", help="export a trained policy or generator to ONNX (the export extra)")
    export.add_argument("run_dir", type=Path)
    export.add_argument("--onnx", type=Path, default=None, metavar="FILE", help="write an ONNX file")
    export.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="write FILE in --format, or in the format its suffix names")
    export.add_argument("--format", default=None, help="export format (onnx)")
    export.add_argument("--checkpoint", default="best", help="best (default), last or step-N")
    export.add_argument("--check", type=int, default=100, metavar="N",
                        help="compare onnxruntime with PyTorch on N sample inputs (default 100; 0 skips)")
    export.set_defaults(handler=command_export)
    dream = commands.add_parser("dream", help="a world model's imagined episode beside the real one, as a GIF")
    dream.add_argument("run_dir", type=Path)
    dream.add_argument("--steps", type=int, default=100, help="dream steps at most (default 100)")
    dream.add_argument("--out", type=Path, default=Path("dream.gif"), help=".gif or .mp4 (default dream.gif)")
    dream.add_argument("--temperature", type=float, default=None, help="the dream's randomness (default: the run's)")
    dream.add_argument("--seed", type=int, default=None, help="seed of the shared start (default: the watch seed)")
    dream.add_argument("--checkpoint", default="best")
    dream.set_defaults(handler=command_dream)

    listing = commands.add_parser("list", help="the algorithms and their presets")
    listing.set_defaults(handler=command_list)
    return parser


# ---- train ------------------------------------------------------------------------------------------
def command_train(argv: list[str]) -> int:
    from gymforge.app import api
    from gymforge.engine.config import read_config_file
    from gymforge.engine.registry import get_algorithm

    # The command line is read once: argparse takes the run's own options (and the subject, which picks the
    # preset, and --steps, which --resume also takes); tyro parses the rest into the config, over the values
    # resolved from them.
    algo_word = argv[0] if argv and not argv[0].startswith("-") else None  # or named by a --config file
    argv = argv[1:] if algo_word else argv
    run_options = argparse.ArgumentParser(prog="gymforge train", add_help=False)
    for flag in ("--name", "--logdir", "--config", "--preset", "--resume", "--env", "--data"):
        run_options.add_argument(flag)
    run_options.add_argument("--steps", type=int)
    run_options.add_argument("-h", "--help", action="store_true")
    options, flags = run_options.parse_known_args(argv)
    if options.resume is not None:
        others = [flag for flag, value in (("ALGO", algo_word), ("--name", options.name), ("--logdir", options.logdir),
                  ("--config", options.config), ("--preset", options.preset), ("--env", options.env),
                  ("--data", options.data)) if value is not None] + flags
        if others:
            raise UserError("--resume continues a run with its saved config; only --steps may be given with it, "
                            f"not {' '.join(others)}")
        return report_run(api.resume(options.resume, steps=options.steps))

    file_algo, file_values = read_config_file(Path(options.config)) if options.config else (None, {})
    algo = algo_word or file_algo
    if not algo:
        print(TRAIN_USAGE, file=sys.stderr)
        return 0 if options.help else 2
    if file_algo and file_algo != algo:
        raise UserError(f"{options.config} is a {file_algo} config, not {algo}")
    if options.help:
        print(TRAIN_USAGE)
    subject_field = get_algorithm(algo).subject_field
    other_field = {"env": "data", "data": "env"}[subject_field]
    if getattr(options, other_field) is not None:
        raise UserError(f"{algo} trains on --{subject_field}, not --{other_field}")
    given = {key: value for key, value in ((subject_field, getattr(options, subject_field)), ("steps", options.steps))
             if value is not None}
    config = api.configure(algo, flags, {**file_values, **given}, options.preset or "auto", show_help=options.help)
    run = api.train(algo, config, name=options.name, logdir=options.logdir or "runs")
    return report_run(run)


def report_run(run: Any) -> int:
    from gymforge.engine import distributed

    distributed.shutdown()  # torchrun: leave the process group; rank 0 reports for the job
    if not distributed.is_main():
        return 0
    summary = run.read_summary()
    status = summary.get("status")
    best = summary.get("best_selection_score", summary.get("best_score"))
    key = summary.get("score_key")
    best_text = f", best {key} {best:.4g} (validation, chose best.pt)" if best is not None else ""
    final = summary.get("final_eval") or {}
    final_text = (f"; last policy on the {final['split']} split: {key} {final[key]:.4g}"
                  if key in final and "split" in final else "")
    print(f"{status}: {run.path} after {summary.get('progress')} steps in {summary.get('wall_clock_s', 0):.1f} s"
          f"{best_text}{final_text}", file=sys.stderr)
    if status == "interrupted":
        print(f"resume with: gymforge train --resume {run.path}", file=sys.stderr)
        return 130
    return 0


# ---- evaluate, watch --------------------------------------------------------------------------------
def command_evaluate(args: argparse.Namespace) -> int:
    """The "test" split: episodes (or data) disjoint from those that chose best.pt, with a 95% interval."""
    from gymforge.app.api import load_learner
    from gymforge.engine.registry import get_algorithm
    from gymforge.engine.run import Run

    if args.episodes is not None and args.episodes <= 0:
        raise UserError(f"--episodes must be positive, got {args.episodes}")
    generative = get_algorithm(Run.open(args.run_dir)[0].algo).kind == "generative"
    if generative and args.episodes is not None:
        raise UserError("--episodes applies to agent runs; a generative run is evaluated on its held-out images")
    if generative and args.seed is not None:
        raise UserError("--seed applies to agent runs (it picks the test episodes); a generative run is evaluated "
                        "on its held-out images")
    overrides: dict[str, Any] = {"eval_episodes": args.episodes} if args.episodes is not None else {}
    if args.seed is not None:
        overrides["seed"] = args.seed
    learner = load_learner(args.run_dir, args.checkpoint, **overrides)
    try:
        figures = learner.evaluate("test")
    finally:
        learner.close()
    if args.json:
        print(json.dumps({**figures, "split": "test", "checkpoint": args.checkpoint, "seed": learner.config.seed}))
        return 0
    print(f"{args.run_dir} ({args.checkpoint} checkpoint) on the test split, seed {learner.config.seed}:")
    shown = set()
    for key in ("mean_return", "success_rate"):
        if key in figures and f"{key}_ci95_low" in figures:
            spread = f", std {figures['std_return']:.4g}" if key == "mean_return" else ""
            print(f"{key:>16}: {figures[key]:.4g}{spread}, 95% CI [{figures[key + '_ci95_low']:.4g}, "
                  f"{figures[key + '_ci95_high']:.4g}] over {figures['episodes']:.0f} episodes")
            shown |= {key, f"{key}_ci95_low", f"{key}_ci95_high", "std_return", "episodes"}
    for key, value in figures.items():
        if key not in shown:
            print(f"{key:>16}: {value:.4g}")
    return 0


def command_watch(args: argparse.Namespace) -> int:
    from gymforge.app import api

    if args.episodes <= 0:
        raise UserError(f"--episodes must be positive, got {args.episodes}")
    if args.record is not None and args.record.suffix.lower() not in (".gif", ".mp4"):
        raise UserError(f"--record must name a .gif or .mp4 file, got {args.record}")
    agent = api.load_learner(args.run_dir, args.checkpoint, kind="agent")
    try:
        result, fps = api.watch(agent, args.episodes, args.seed, "rgb_array" if args.record else "human")
    finally:
        agent.close()
    for index, episode_return in enumerate(result.returns):
        print(f"episode {index + 1}: return {episode_return:.2f}, length {result.lengths[index]}")
    if args.record is not None:
        from gymforge.envs import save_video

        save_video(result.frames, args.record, fps=fps)
        print(f"wrote {args.record}", file=sys.stderr)
    return 0


def command_dream(args: argparse.Namespace) -> int:
    from gymforge.app.api import load_learner
    from gymforge.engine.run import Run
    from gymforge.engine.seeding import stream_seed

    if args.steps <= 0:
        raise UserError(f"--steps must be positive, got {args.steps}")
    if args.out.suffix.lower() not in (".gif", ".mp4"):
        raise UserError(f"--out must name a .gif or .mp4 file, got {args.out}")
    if args.temperature is not None and args.temperature < 0:
        raise UserError(f"--temperature must be >= 0, got {args.temperature}")
    run, _ = Run.open(args.run_dir)
    if run.algo != "worldmodel":
        raise UserError(f"{args.run_dir} is a {run.algo} run; `gymforge dream` needs a worldmodel run")
    learner = load_learner(args.run_dir, args.checkpoint)
    try:
        seed = stream_seed(learner.config.seed, "watch") if args.seed is None else args.seed
        frames, dream_return, real_return = learner.dream_video(args.steps, seed, args.temperature)
    finally:
        learner.close()
    from gymforge.envs import save_video

    save_video(frames, args.out, fps=10)
    print(f"dream return {dream_return:.2f}, real return {real_return:.2f} from the same start", file=sys.stderr)
    print(f"wrote {args.out} ({len(frames)} frames: dream left, real right)", file=sys.stderr)
    return 0


def command_collect(args: argparse.Namespace) -> int:
    from gymforge.envs import collect_frames, save_frames

    make_policy, env = None, None
    if args.policy != "random":
        from gymforge.app.api import load_learner

        learner = load_learner(args.policy, kind="agent")
        if learner.config.env != args.env:
            raise UserError(f"--policy {args.policy} was trained on {learner.config.env}, not {args.env}")
        make_policy = learner.policy  # one fresh policy per episode: recurrent memory never spans two
        env = learner.make_env(render_mode="rgb_array" if args.source == "render" else None)
    frames = collect_frames(args.env, args.frames, size=args.size, make_policy=make_policy, seed=args.seed,
                            source=args.source, progress=sys.stderr.isatty(), env=env)
    path = save_frames(args.out, frames, env=args.env, size=args.size, source=args.source, policy=args.policy,
                       seed=args.seed)
    print(f"wrote {len(frames)} frames of shape {frames.shape[1:]} to {path}", file=sys.stderr)
    return 0


def command_sample(args: argparse.Namespace) -> int:
    from gymforge.app import api

    if args.scale < 1:
        raise UserError(f"--scale must be >= 1, got {args.scale}")
    if args.out.suffix.lower() != ".png":
        raise UserError(f"--out must name a .png file, got {args.out}")
    if sum([args.interpolate, args.reconstruct, args.translate is not None]) > 1:
        raise UserError("choose at most one of --interpolate, --reconstruct and --translate")
    generator = api.load_learner(args.run_dir, args.checkpoint, kind="generative")
    try:
        if args.translate is not None:
            grid = generator.translate(args.translate, n=args.n)
        else:
            grid = generator.sample_grid(args.n, args.seed, label=args.label, interpolate=args.interpolate,
                                         reconstruct=args.reconstruct)
    finally:
        generator.close()
    print(f"wrote {api.save_grid(grid, args.out, args.scale)}", file=sys.stderr)
    return 0


# ---- tune, export ------------------------------------------------------------------------------------
def add_tune_parser(commands: Any) -> None:
    from gymforge.app.tune import add_arguments

    tune = commands.add_parser("tune", help="search hyperparameters with Optuna (the tune extra)")
    add_arguments(tune)
    tune.set_defaults(handler=command_tune)


def command_tune(args: argparse.Namespace) -> int:
    from gymforge.app.tune import tune

    tune(args)
    return 0


def command_export(args: argparse.Namespace) -> int:
    from gymforge.app.api import export_run
    from gymforge.engine.export import ExportCheckError

    if (args.onnx is None) == (args.out is None):
        raise UserError("give one of --onnx FILE or --out FILE [--format F]")
    if args.onnx is not None and args.format not in (None, "onnx"):
        raise UserError(f"--onnx writes ONNX; drop --format {args.format} or use --out FILE --format {args.format}")
    out = args.onnx if args.onnx is not None else args.out
    try:
        report = export_run(args.run_dir, out, "onnx" if args.onnx is not None else args.format, args.checkpoint,
                            args.check)
    except ExportCheckError as error:
        print(f"gymforge: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {report['path']}: {report['description']}", file=sys.stderr)
    print(f"  inputs {', '.join(report['inputs'])}; outputs {', '.join(report['outputs'])}", file=sys.stderr)
    if report["checked_inputs"]:
        largest = max(report["max_abs_difference"].values(), default=0.0)
        print(f"  checked: onnxruntime matches PyTorch on {report['checked_inputs']} sample inputs "
              f"(largest difference {largest:.2g})", file=sys.stderr)
    return 0


# ---- runs, board, list ------------------------------------------------------------------------------
def command_runs(args: argparse.Namespace) -> int:
    from gymforge.engine.run import Run

    rows = []
    folders = sorted(p.parent for p in args.logdir.glob("*/config.yaml")) if args.logdir.is_dir() else []
    for folder in folders:
        run = Run(folder, "")
        summary = run.read_summary()
        rows.append({"run": folder.name, "algo": summary.get("algo", "?"), "env": summary.get("subject", "?"),
                     "steps": summary.get("progress", 0),
                     "best_eval": summary.get("best_selection_score", summary.get("best_score")),  # older runs
                     "final_test": (summary.get("final_eval") or {}).get(summary.get("score_key", "")),
                     "score": summary.get("score_key", ""), "wall_clock_s": summary.get("wall_clock_s", 0.0),
                     "status": run.status()})
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print(f"no runs in {args.logdir}/ (train one with: gymforge train qlearning --env FrozenLake-v1)")
        return 0
    header = ["run", "algo", "env", "steps", "best eval (validation)", "last policy (test)", "wall-clock", "status"]
    table = [[r["run"], r["algo"], r["env"], str(r["steps"]),
              "-" if r["best_eval"] is None else f"{r['best_eval']:.4g} ({r['score']})",
              "-" if r["final_test"] is None else f"{r['final_test']:.4g}",
              f"{r['wall_clock_s']:.0f} s", r["status"]] for r in rows]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
    for row in [header, *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def command_board(args: argparse.Namespace) -> int:
    if not args.logdir.is_dir():
        raise UserError(f"{args.logdir} does not exist; train a run first or pass --logdir")
    executable = shutil.which("tensorboard")
    command = [executable] if executable else [sys.executable, "-m", "tensorboard.main"]
    command += ["--logdir", str(args.logdir), "--port", str(args.port), "--bind_all"]
    print(f"TensorBoard on {args.logdir}/ at http://localhost:{args.port}/ (Ctrl-C stops it)", flush=True)
    os.execv(command[0], command)  # become TensorBoard, so a SIGTERM stops it too (a child would be orphaned)
    return 0  # not reached


def command_list(args: argparse.Namespace) -> int:
    from gymforge.engine.registry import ALGORITHMS

    for algorithm in ALGORITHMS.values():
        print(f"{algorithm.name:<10} {algorithm.summary}")
        presets = algorithm.presets
        if presets:
            print(f"{'':<10} presets: {', '.join(presets)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
