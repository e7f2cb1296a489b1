"""Steps and wall-clock to a STABLE solve of CartPole-v1: gymforge's DQN (its preset) against Stable-Baselines3's DQN.

SB3 runs with the RL Baselines3 Zoo's tuned CartPole-v1 hyperparameters (hyperparams/dqn.yml). Both train the
whole 50,000-step budget and are judged by the same code (benchmarks/stats.py): every 2,500 environment steps,
20 greedy episodes played side by side in a vector env (episode seeds from the "evaluation" stream, never the
training seeds). Per seed: the first solve (first evaluation with mean return >= 475), the STABLE solve (the
first evaluation after which every later one through the budget stays >= 475; the headline), and the final
return of the last policy over 100 fresh episodes (the "test" stream). Wall-clock runs from building the agent,
evaluation time included. Across seeds: median and IQM with bootstrap 95% intervals, and gymforge/SB3 ratios
with theirs. Both use one torch thread on the CPU. Needs the `bench` extra (stable-baselines3).
The preset was chosen on seeds 0-4, so the reported seeds are 5-9. Progress lines go to stdout; the LAST line
is one JSON object.

    python benchmarks/dqn_cartpole.py [--seeds 5 6 7 8 9] [--only gymforge|sb3] [--set option=value ...]
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from benchmarks.stats import Curve, Evaluator, compare, race_arguments, table  # noqa: E402

ENV_ID = "CartPole-v1"
SOLVED = 475.0
EVAL_EVERY = 2_500
EVAL_EPISODES = 20
FINAL_EPISODES = 100
BUDGET = 50_000
SB3_ZOO = {  # rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1 (n_timesteps 5e4)
    "learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000, "learning_starts": 1_000, "gamma": 0.99,
    "target_update_interval": 10, "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
    "exploration_final_eps": 0.04, "policy_kwargs": {"net_arch": [256, 256]},
}


def finish(library: str, seed: int, steps: int, curve: Curve, started: float, evaluator: Evaluator, greedy) -> dict:
    seconds = time.perf_counter() - started
    final = Evaluator(ENV_ID, FINAL_EPISODES, seed, stream="test")
    row = {"library": library, "seed": seed, "steps": steps, "bar": SOLVED, **curve.figures(),
           "final_return": final(greedy),
           "run_s": round(seconds, 2), "eval_s": round(evaluator.seconds, 2)}
    final.close()
    evaluator.close()
    print(f"[{library} seed {seed}] first solve {row['first_solve_steps']}, stable solve "
          f"{row['stable_solve_steps']} steps ({row['stable_solve_s']} s), final return {row['final_return']:.1f} "
          f"(run {seconds:.1f} s, evaluation {evaluator.seconds:.1f} s)", flush=True)
    return row


def run_gymforge(seed: int, overrides: dict) -> dict:
    from gymforge.agents.dqn import DQN

    from gymforge.app.api import make_config
    from gymforge.engine.seeding import seed_everything

    seed_everything(seed)
    started = time.perf_counter()
    config = make_config("dqn", {"env": ENV_ID, "seed": seed, "steps": BUDGET, "eval_every": EVAL_EVERY,
                                 "checkpoint_every": 0, "log_every": EVAL_EVERY, **overrides})
    learner = DQN(config)
    evaluator, curve = Evaluator(ENV_ID, EVAL_EPISODES, seed), Curve(SOLVED)
    next_eval = EVAL_EVERY
    try:
        while learner.progress < BUDGET:
            learner.train_step()  # stops at each multiple of eval_every
            if learner.progress >= next_eval:
                next_eval += EVAL_EVERY
                score = evaluator(learner.greedy_actions)
                curve.add(learner.progress, time.perf_counter() - started, score)
                print(f"  gymforge seed {seed} step {learner.progress}: eval {score:.1f} "
                      f"({time.perf_counter() - started:.1f} s)", flush=True)
        return finish("gymforge", seed, learner.progress, curve, started, evaluator, learner.greedy_actions)
    finally:
        learner.close()


def run_sb3(seed: int) -> dict:
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % EVAL_EVERY == 0:
                score = evaluator(lambda obs: self.model.predict(obs, deterministic=True)[0])
                curve.add(self.num_timesteps, time.perf_counter() - started, score)
                print(f"  sb3 seed {seed} step {self.num_timesteps}: eval {score:.1f} "
                      f"({time.perf_counter() - started:.1f} s)", flush=True)
            # Stop AT the budget: learn() would finish its train_freq rollout (to 50,176 steps) and train one more
            # round, so the final return would judge another policy than the last evaluation, on more steps.
            return self.num_timesteps < BUDGET

    torch.manual_seed(seed)
    started = time.perf_counter()
    model = DQN("MlpPolicy", ENV_ID, seed=seed, device="cpu", verbose=0, **SB3_ZOO)
    evaluator, curve = Evaluator(ENV_ID, EVAL_EPISODES, seed), Curve(SOLVED)
    model.learn(BUDGET, callback=Evaluate())
    model.get_env().close()
    return finish("sb3", seed, model.num_timesteps, curve, started, evaluator,
                  lambda obs: model.predict(obs, deterministic=True)[0])


def main() -> None:
    args, overrides = race_arguments(__doc__.splitlines()[0])
    torch.set_num_threads(1)
    figures: dict = {"benchmark": "dqn_cartpole", "env": ENV_ID, "budget_steps": BUDGET, "solved_return": SOLVED,
                     "eval_every": EVAL_EVERY, "eval_episodes": EVAL_EPISODES, "final_episodes": FINAL_EPISODES,
                     "seeds": args.seeds, "torch_threads": 1,
                     "machine": f"{platform.processor() or platform.machine()}, shared", "gymforge_overrides": overrides}
    libraries = [args.only] if args.only else ["gymforge", "sb3"]
    runs: dict[str, list[dict]] = {library: [] for library in libraries}
    for seed in args.seeds:  # interleaved, so both see the same machine load over time
        for library in libraries:
            runs[library].append(run_gymforge(seed, overrides) if library == "gymforge" else run_sb3(seed))
    for library, rows in runs.items():
        print(table(rows, library), flush=True)
    figures.update(compare(runs))
    figures["per_seed"] = {library: [{k: v for k, v in row.items() if k != "curve"} for row in rows]
                           for library, rows in runs.items()}
    figures["curves"] = {library: {row["seed"]: row["curve"] for row in rows} for library, rows in runs.items()}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
