"""What every RL benchmark shares: one batched evaluator, solve and STABLE-solve times from an evaluation curve,
and statistics across seeds (median and interquartile mean with bootstrap 95% intervals, ratios against a
reference with their interval, from scipy.stats.bootstrap).

A stable solve is the first evaluation after which every later evaluation through the budget stays at or
above the bar (that evaluation included): a spike that falls back does not count, a policy that holds does.
A seed that never gets there counts as infinitely slow; a statistic or interval bound that lands on such a
seed is reported as null (JSON has no infinity).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import yaml
from scipy import stats

UNSOLVED = math.inf  # "never" is infinitely slow: a mean over a never (the IQM's middle half) is never too


class Evaluator:
    """`episodes` greedy episodes side by side in a vector env, one batched policy call per step.

    The episode seeds come from their own named stream, `("evaluation", seed)` (never the training seeds):
    the same episodes at every call, so successive evaluations compare like with like.
    """

    def __init__(self, env_id: str, episodes: int, seed: int, stream: str = "evaluation") -> None:
        self.envs = gym.vector.SyncVectorEnv([lambda: gym.make(env_id)] * episodes)
        self.episode_seed = episode_seed(stream, seed)
        self.episodes = episodes
        self.seconds = 0.0

    def __call__(self, greedy: Callable[[np.ndarray], np.ndarray]) -> float:
        """Mean return of each sub-env's first episode under greedy((N, ...) observations) -> (N,) actions."""
        started = time.perf_counter()
        observations, _ = self.envs.reset(seed=self.episode_seed)
        returns = np.zeros(self.episodes)
        running = np.ones(self.episodes, dtype=bool)
        while running.any():
            observations, rewards, terminated, truncated, _ = self.envs.step(greedy(observations))
            returns += rewards * running
            running &= ~(terminated | truncated)
        self.seconds += time.perf_counter() - started
        return float(returns.mean())

    def close(self) -> None:
        self.envs.close()


def episode_seed(stream: str, seed: int) -> int:
    """A 31-bit episode seed drawn from a named numpy SeedSequence stream: different names never collide."""
    words = [seed, *stream.encode()]
    return int(np.random.SeedSequence(words).generate_state(1)[0] >> 1)


@dataclass
class Curve:
    """One run's evaluations: (env steps, seconds since the agent was built, mean return)."""

    bar: float
    points: list[tuple[int, float, float]] = field(default_factory=list)

    def add(self, steps: int, seconds: float, score: float) -> None:
        """Kept as measured: 474.996 is below a bar of 475 (rounding happens only in figures())."""
        self.points.append((int(steps), float(seconds), float(score)))

    def first_solve(self) -> tuple[int, float] | None:
        return next(((steps, seconds) for steps, seconds, score in self.points if score >= self.bar), None)

    def stable_solve(self) -> tuple[int, float] | None:
        """The first evaluation from which every evaluation through the last one is >= the bar."""
        found = None
        for steps, seconds, score in reversed(self.points):
            if score < self.bar:
                break
            found = (steps, seconds)
        return found

    def figures(self) -> dict:
        first, stable = self.first_solve(), self.stable_solve()
        shown = [(steps, round(seconds, 2), round(score, 2)) for steps, seconds, score in self.points]
        return {"first_solve_steps": first and first[0], "first_solve_s": first and round(first[1], 2),
                "stable_solve_steps": stable and stable[0], "stable_solve_s": stable and round(stable[1], 2),
                "last_eval_return": shown[-1][2] if shown else None, "curve": shown}


def _finite(values: list[float | None]) -> np.ndarray:
    return np.array([UNSOLVED if value is None else float(value) for value in values])


def _out(value: float) -> float | None:
    return round(float(value), 3) if math.isfinite(value) else None  # inf (never) or nan (inf - inf): no value


def iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean: the mean of the middle half (rliable's recommended aggregate)."""
    return stats.trim_mean(values, 0.25, axis=axis)


def summarize(values: list[float | None], seed: int = 0) -> dict:
    """Median and IQM of one figure across seeds, each with a percentile-bootstrap 95% interval."""
    data = _finite(values)
    out: dict = {"n": len(data), "median": _out(float(np.median(data))), "iqm": _out(float(iqm(data)))}
    for name, statistic in (("median", np.median), ("iqm", iqm)):
        if len(data) < 2 or np.all(data == data[0]):
            low = high = float(statistic(data))
        else:
            with np.errstate(invalid="ignore"):  # the standard error of infinite resamples is nan; unused here
                result = stats.bootstrap((data,), statistic, n_resamples=10_000, method="percentile",
                                         rng=np.random.default_rng(seed))
            low, high = result.confidence_interval
        out[f"{name}_ci95"] = [_out(low), _out(high)]
    return out


def ratio(ours: list[float | None], reference: list[float | None], seed: int = 0) -> dict:
    """median(ours) / median(reference) with a percentile-bootstrap 95% interval (seeds resampled on each side
    independently). Below 1: ours is faster (for times)."""
    a, b = _finite(ours), _finite(reference)

    def median_ratio(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        """A median that lands on "never" (or halfway to it) is infinite. Where ours is, so is the ratio, whatever
        the reference's median (never / never is not 1)."""
        top, bottom = (np.median(values, axis=axis) for values in (x, y))
        with np.errstate(invalid="ignore"):
            return np.where(np.isinf(top), np.inf, top / bottom)

    point = float(median_ratio(a, b))
    if len(a) < 2 or len(b) < 2:
        low = high = point
    else:
        with np.errstate(invalid="ignore"):  # its standard error of infinite resamples is nan; unused here
            result = stats.bootstrap((a, b), median_ratio, n_resamples=10_000, method="percentile", paired=False,
                                     vectorized=True, rng=np.random.default_rng(seed))
        low, high = result.confidence_interval
    def clean(value: float) -> float | None:
        return round(float(value), 3) if math.isfinite(value) and 1e-12 < value < 1e12 else None

    return {"median_ratio": clean(point), "ci95": [clean(low), clean(high)]}


def table(rows: list[dict], library: str) -> str:
    """A Markdown table of one library's per-seed figures."""
    lines = [f"{library}: | seed | first solve (steps, s) | stable solve (steps, s) | final return |",
             "|---|---|---|---|"]
    for row in rows:
        first = (f"{row['first_solve_steps']}, {row['first_solve_s']}" if row["first_solve_steps"] is not None
                 else "never")
        stable = (f"{row['stable_solve_steps']}, {row['stable_solve_s']}" if row["stable_solve_steps"] is not None
                  else "never")
        lines.append(f"| {row['seed']} | {first} | {stable} | {row['final_return']:.1f} |")
    return "\n".join(lines)


def compare(runs: dict[str, list[dict]], reference: str = "sb3") -> dict:
    """Across-seed statistics of every library, and ours/reference ratios, for the JSON line."""
    figures: dict = {}
    for library, rows in runs.items():
        figures[library] = {
            "seeds_stable": sum(row["stable_solve_steps"] is not None for row in rows),
            "seeds_final_at_bar": sum(row["final_return"] >= row["bar"] for row in rows),
            **{key: summarize([row[key] for row in rows]) for key in
               ("stable_solve_s", "stable_solve_steps", "first_solve_s", "first_solve_steps", "final_return")}}
    others = [library for library in runs if library != reference]
    if reference in runs:
        for library in others:
            ratios = {key: ratio([row[key] for row in runs[library]], [row[key] for row in runs[reference]])
                      for key in ("stable_solve_s", "stable_solve_steps", "first_solve_s")}
            if any(row["stable_solve_s"] is None for row in runs[reference]):
                ratios["stable_solve_s_at_most"] = ratio([row["stable_solve_s"] for row in runs[library]],
                                                         censored_at_budget(runs[reference]))
            figures[f"{library}_over_{reference}"] = ratios
    return figures


def censored_at_budget(rows: list[dict]) -> list[float]:
    """Stable-solve seconds with every "never" replaced by the run's last evaluation time (the end of its budget).

    A seed that never solved stably within the budget would solve, if ever, after that time, so these are lower
    bounds on the reference's times, and ours over them is an upper bound on the true ratio: where the reference's
    median is "never", this still gives the ratio a point value that can only flatter the reference.
    """
    return [row["stable_solve_s"] if row["stable_solve_s"] is not None else row["curve"][-1][1] for row in rows]


def race_arguments(description: str) -> tuple[argparse.Namespace, dict]:
    """The command line of a gymforge-against-SB3 race: --seeds (held out: presets are chosen on 0-4), --only one
    side, and --set OPTION=VALUE overrides of gymforge's preset (YAML values; lists become tuples)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, nargs="+", default=[5, 6, 7, 8, 9],
                        help="reported seeds (the preset was chosen on 0-4)")
    parser.add_argument("--only", choices=["gymforge", "sb3"], default=None, help="run one side only")
    parser.add_argument("--set", nargs="*", default=[], metavar="OPTION=VALUE",
                        help="override gymforge options (YAML values), e.g. --set learning_rate=1e-3")
    args = parser.parse_args()
    return args, parse_overrides(args.set)


def parse_overrides(items: list[str]) -> dict:
    """OPTION=VALUE strings as config overrides: YAML values, lists as tuples."""
    overrides = {key: yaml.safe_load(value) for key, value in (item.split("=", 1) for item in items)}
    return {key: tuple(value) if isinstance(value, list) else value for key, value in overrides.items()}
