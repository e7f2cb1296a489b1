"""The one Trainer: the loop to a budget, logging, evaluation, checkpoints, resume, signals, NaN guard."""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from gymforge.engine import distributed
from gymforge.engine.checkpoint import load_checkpoint, remove_stale_temp_files, save_checkpoint
from gymforge.engine.config import config_to_dict
from gymforge.engine.errors import CheckpointError, NonFiniteError
from gymforge.engine.learner import Agent, Learner
from gymforge.engine.logger import Logger
from gymforge.engine.run import Run
from gymforge.engine.seeding import rng_state, set_rng_state, stream_seed
from gymforge.envs.video import record_episode

VIDEO_MAX_STEPS = 300  # an evaluation video shows at most this many steps, every VIDEO_EVERY-th one rendered,
VIDEO_EVERY = 2  # shrunk to VIDEO_SIZE px on the long side: about 0.3 s per evaluation for CartPole
VIDEO_SIZE = 160


def reached(score: float | None, bar: float | None, mode: str) -> bool:
    """Whether an evaluation score reaches --stop-at: at least the bar for a score to maximize, at most to minimize."""
    if score is None or bar is None:
        return False
    return score >= bar if mode == "max" else score <= bar


def video_frames(frames: list[np.ndarray]) -> np.ndarray:
    """(T, H, W, 3) uint8 frames shrunk (nearest pixel, so small pixel-art stays sharp) to VIDEO_SIZE on the long side."""
    stack = np.stack([np.asarray(frame, dtype=np.uint8) for frame in frames])
    if stack.ndim == 3:
        stack = np.repeat(stack[..., None], 3, axis=-1)
    step = max(1, -(-max(stack.shape[1:3]) // VIDEO_SIZE))
    return stack[:, ::step, ::step, :3]


def next_multiple(progress: int, every: int) -> int:
    """The first multiple of `every` strictly after progress (never, when every is 0)."""
    return (progress // every + 1) * every if every > 0 else sys.maxsize


class Trainer:
    """Drives any Learner to its budget; everything that is the same for every algorithm lives here."""

    def __init__(self, learner: Learner, run: Run, progress_bar: bool | None = None,
                 on_evaluate: Callable[[int, dict[str, float]], bool | None] | None = None) -> None:
        self.learner = learner
        # on_evaluate(progress, figures) runs after every evaluation; returning True stops the run (status
        # "stopped", last.pt saved), e.g. a tuning trial that its pruner gave up on.
        self.on_evaluate = on_evaluate
        self.stop_requested = False
        self.run = run
        self.config = learner.config
        self.progress_bar = progress_bar
        self.best_score: float | None = None
        self.last_eval: dict[str, float] = {}
        self.final_eval: dict[str, Any] | None = None
        self.elapsed = 0.0
        self.stop_signal: int | None = None
        self.logger: Logger | None = None
        self.acts = isinstance(learner, Agent)  # the Agent contract: evaluation videos (any learner, registered or not)
        self.video_renders = True  # until an env refuses to render rgb_array frames

    # ---- state --------------------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Any]:
        return {
            "algo": self.run.algo,
            "config": config_to_dict(self.config),
            "progress": self.learner.progress,
            "learner": self.learner.state_dict(),
            "trainer": {"best_score": self.best_score, "elapsed": self.elapsed, "last_eval": self.last_eval},
            "rng": rng_state(),
        }

    def save(self, which: str) -> None:
        if not distributed.is_main():  # torchrun: rank 0 alone writes checkpoints
            return
        if self.logger is not None:  # events up to this step reach disk first: a resume leaves no gap
            self.logger.flush()
        save_checkpoint(self.run.checkpoint(which), self.checkpoint_state())

    def restore(self, which: str = "last") -> int:
        """Load the run's checkpoint into the learner and this trainer; returns the progress it resumes at."""
        remove_stale_temp_files(self.run.checkpoints)
        state = load_checkpoint(self.run.checkpoint(which))
        if state.get("algo") != self.run.algo:
            raise CheckpointError(f"{self.run.checkpoint(which)} belongs to {state.get('algo')}, not {self.run.algo}")
        self.learner.load_state_dict(state["learner"])
        trainer = state["trainer"]
        self.best_score, self.elapsed = trainer["best_score"], trainer["elapsed"]
        self.last_eval = dict(trainer.get("last_eval") or {})
        set_rng_state(state["rng"])
        distributed.reseed_after_restore(int(state["progress"]), self.learner)  # torchrun: own streams again
        return int(state["progress"])

    # ---- the loop -----------------------------------------------------------------------------------
    def fit(self, resume: bool = False, close: bool = True, until: int | None = None) -> dict[str, Any]:
        """Train to `until` (default: the budget, config.steps). Returns the run summary; status is finished,
        stopped, interrupted or failed. resume: load the run's last.pt first. close=False leaves the learner
        open (the Python API's learn()).

        The engine owns the schedules' horizon: config.steps, or `until` where a call goes past it (a learn()
        beyond the budget, a resumed run given more --steps). It is saved with the learner, so a resumed run
        follows the curve it was on."""
        learner, config = self.learner, self.config
        start_progress = self.restore() if resume else learner.progress
        until = config.steps if until is None else until
        learner.horizon = max(getattr(learner, "horizon", None) or config.steps, until)
        self.until = until
        # purge_step drops events a killed process logged after its last checkpoint (whose own step was
        # logged before it was saved): no duplicated steps, no gap.
        self.logger = (Logger(self.run.path, start_progress + 1 if resume else None, self.run.samples)
                       if distributed.is_main() else distributed.NullLogger())  # torchrun: rank 0 alone logs
        fresh = not resume and start_progress == 0  # a Python API learn() that continues is neither
        if fresh:
            self.logger.hyperparameters({"algo": self.run.algo, **config_to_dict(config)},
                                        [f"eval/{learner.score_key}"])
            self.logger.text("config", "\n".join(f"    {k}: {v}" for k, v in config_to_dict(config).items()))
        prepare = getattr(learner, "prepare", None)  # e.g. a generator's judge classifier, trained or loaded
        if prepare is not None and fresh and distributed.is_main():
            prepared = prepare()
            self.logger.scalars({k: v for k, v in prepared.items() if not isinstance(v, str)}, start_progress)
            if prepared:
                print("gymforge: " + ", ".join(f"{k} {round(v, 4) if isinstance(v, float) else v}"
                                               for k, v in prepared.items()), file=sys.stderr)
        next_eval = next_multiple(start_progress, config.eval_every)
        next_checkpoint = next_multiple(start_progress, config.checkpoint_every)
        next_keep = next_multiple(start_progress, config.keep_every)
        self.run.write_summary({"status": "running", "progress": start_progress})

        bar = tqdm(total=until, initial=start_progress, unit="step", dynamic_ncols=True, smoothing=0.05,
                   disable=self.progress_bar is False or (self.progress_bar is None and not sys.stderr.isatty())
                   or not distributed.is_main(),
                   desc=f"{self.run.algo} {config.subject}")
        previous_handlers = self.install_signal_handlers()
        status = "finished"
        started = time.perf_counter()
        window_start, window_progress = started, start_progress
        try:
            while learner.progress < until:
                metrics = learner.train_step(min(next_eval, next_checkpoint, next_keep, until))
                progress = learner.progress
                now = time.perf_counter()
                self.elapsed += now - started
                started = now
                self.check_finite(metrics, progress)
                if now - window_start > 1.0:
                    metrics["time/sps"] = (progress - window_progress) / (now - window_start)
                    window_start, window_progress = now, progress
                metrics["time/elapsed_s"] = self.elapsed
                self.logger.scalars(metrics, progress)
                bar.update(progress - bar.n)
                if progress >= next_eval or progress >= until:
                    self.evaluate(progress, bar)
                    next_eval = next_multiple(progress, config.eval_every)
                if progress >= next_keep:
                    self.save(f"step-{progress:09d}")
                    next_keep = next_multiple(progress, config.keep_every)
                if progress >= next_checkpoint or progress >= until:
                    self.save("last")
                    self.run.write_summary(self.summary_fields("running"))
                    next_checkpoint = next_multiple(progress, config.checkpoint_every)
                # A signal, or on_evaluate asking to stop (rank 0 evaluates): under torchrun every rank stops together.
                if distributed.agree(self.stop_signal is not None or self.stop_requested):
                    self.save("last")
                    status = "interrupted" if self.stop_signal is not None else "stopped"
                    break
            if status == "finished" and distributed.is_main():
                self.final_evaluation()
        except NonFiniteError:
            self.run.write_summary(self.summary_fields("failed"))
            raise
        finally:
            self.elapsed += time.perf_counter() - started
            self.restore_signal_handlers(previous_handlers)
            bar.close()
            self.logger.close()
            if close:
                learner.close()
        return self.run.write_summary(self.summary_fields(status))

    def evaluate(self, progress: int, bar: tqdm) -> None:
        if not distributed.is_main():  # torchrun: rank 0 alone evaluates; the others wait at the next collective
            return
        started = time.perf_counter()
        figures = self.learner.evaluate()
        self.check_finite(figures, progress)
        figures["time_s"] = time.perf_counter() - started
        self.last_eval = figures
        self.logger.scalars({f"eval/{key}": value for key, value in figures.items()}, progress)
        self.learner.log_media(self.logger, progress)
        if self.acts and getattr(self.config, "eval_video", False) and self.video_renders:
            self.log_episode_video(progress)
        self.logger.flush()
        score = figures.get(self.learner.score_key)
        if score is not None:
            better = (self.best_score is None or (score > self.best_score if self.learner.score_mode == "max"
                                                  else score < self.best_score))
            if better:
                self.best_score = score
                self.save("best")
            text = f"{self.learner.score_key}={score:.4g}"
            bar.set_postfix_str(f"eval {text}")
            if bar.disable:
                print(f"[{self.run.algo}] step {progress}/{self.until} eval {text}", file=sys.stderr)
        if self.on_evaluate is not None and self.on_evaluate(progress, dict(figures)):
            self.stop_requested = True
        if reached(score, self.config.stop_at, self.learner.score_mode):
            self.stop_requested = True
            print(f"[{self.run.algo}] {self.learner.score_key} {score:.4g} reached --stop-at {self.config.stop_at:g} "
                  f"at step {progress}: stopping", file=sys.stderr)

    def log_episode_video(self, progress: int) -> None:
        """One greedy episode (the same start every evaluation) as a TensorBoard video: the Agent contract's
        make_env and policy, so every agent gets it. An env that cannot render rgb_array frames (MuJoCo without
        an OpenGL context, say) is noted once and the run goes on without videos."""
        env = None
        try:
            env = self.learner.make_env(render_mode="rgb_array")
            frames, _ = record_episode(env, self.learner.policy(), seed=stream_seed(self.config.seed, "eval-video"),
                                       max_steps=VIDEO_MAX_STEPS, every=VIDEO_EVERY)
            self.logger.video("eval/episode", video_frames(frames), progress,
                              fps=env.metadata.get("render_fps", 30) / VIDEO_EVERY)
        except Exception as error:  # noqa: BLE001  (a video is a nicety; it never ends a run)
            self.video_renders = False
            print(f"[{self.run.algo}] no evaluation videos: the env cannot render frames "
                  f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})", file=sys.stderr)
        finally:
            if env is not None:
                env.close()

    def final_evaluation(self) -> None:
        """Once, at the end of the budget: the LAST policy on the "test" split (episodes or data no selection
        has seen), so summary.json holds an honest estimate beside the selection score that chose best.pt."""
        started = time.perf_counter()
        figures = self.learner.evaluate("test")
        self.check_finite(figures, self.learner.progress)
        self.final_eval = {"split": "test", "checkpoint": "last", "step": self.learner.progress, **figures,
                           "time_s": time.perf_counter() - started}
        self.logger.scalars({f"test/{key}": value for key, value in figures.items()}, self.learner.progress)

    def summary_fields(self, status: str) -> dict[str, Any]:
        """best_selection_score: the best validation score, which chose best.pt (optimistic: it selected);
        final_eval: the last policy on the test split (set when the budget is reached)."""
        return {"status": status, "progress": self.learner.progress, "wall_clock_s": round(self.elapsed, 3),
                "score_key": self.learner.score_key, "best_selection_score": self.best_score,
                "selection_split": "validation", "last_eval": self.last_eval, "final_eval": self.final_eval}

    def check_finite(self, metrics: dict[str, float], progress: int) -> None:
        for key, value in metrics.items():
            if isinstance(value, torch.Tensor):
                value = float(value)
            if not math.isfinite(value):
                last = self.run.checkpoint("last")
                where = f"the last good checkpoint is {last}" if last.exists() else "no checkpoint was written yet"
                raise NonFiniteError(
                    f"{key} became {value} at step {progress}, so training stopped; {where}. "
                    "Try a lower learning rate or gradient clipping."
                )

    # ---- signals ------------------------------------------------------------------------------------
    def install_signal_handlers(self) -> dict[int, Any]:
        """Ctrl-C and SIGTERM finish the current step, save a checkpoint and return cleanly."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def request_stop(signum: int, frame: Any) -> None:
            if self.stop_signal is not None:  # a second Ctrl-C while saving: let it through
                raise KeyboardInterrupt
            self.stop_signal = signum

        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, request_stop)
        return previous

    @staticmethod
    def restore_signal_handlers(previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
