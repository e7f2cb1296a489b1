"""Run by torchrun in test_distributed.py: PPO's DDP gradient on each rank's share of a minibatch (unequal
shares) equals the gradient of the whole minibatch in one process (its advantages normalized over the whole
minibatch)."""

from __future__ import annotations

import copy

import torch
from gymforge.agents.rollout import Minibatch

from gymforge.app import api
from gymforge.engine import distributed

config = api.make_config("ppo", {"env": "CartPole-v1", "n_envs": 2, "n_steps": 16, "batch_size": 32,
                                 "clip_range_vf": 0.2, "ent_coef": 0.01,
                                 "device": "cpu"})
learner = api.build_learner("ppo", config)
reference = copy.deepcopy(learner.model)  # a copy outside DDP: its backward triggers no collective
generator = torch.Generator().manual_seed(123)  # the same global minibatch on every rank
size = 64
observations = torch.randn(size, 4, generator=generator)
actions = torch.randint(0, 2, (size,), generator=generator)
old_log_probs = -torch.rand(size, generator=generator)
old_values = torch.randn(size, generator=generator)
advantages = torch.randn(size, generator=generator)
returns = torch.randn(size, generator=generator)
tensors = [observations, actions, old_log_probs, old_values, advantages, returns]


def minibatch(part: slice) -> Minibatch:
    return Minibatch(*[tensor[part] for tensor in tensors], None, None, ())


# unequal shares (40 and 24 of 64 on 2 ranks, as ranks' valid steps differ): the gradient must still be the
# whole minibatch's, not the average of the two local means
cuts = [0, 40, size]  # the test runs 2 ranks
mine = slice(cuts[distributed.rank()], cuts[distributed.rank() + 1])
loss, _ = learner.losses(minibatch(mine), clip_range=0.2)
loss.backward()
learner.train_model = reference
whole, _ = learner.losses(minibatch(slice(0, size)), clip_range=0.2)
whole.backward()
worst = max(float((a.grad - b.grad).abs().max() / (b.grad.abs().max() + 1e-12))
            for a, b in zip(learner.model.parameters(), reference.parameters()))
print(f"rank {distributed.rank()}: worst relative gradient difference {worst:.2e}", flush=True)
assert worst < 1e-5, worst
# Release the DDP wrapper (its reducer holds the gloo process group) and leave the group, as the CLI does
# (gymforge.app.cli.report_run). Left to interpreter exit, gloo's worker threads were torn down during finalization
# and aborted a rank ("terminate called without an active exception") in 10 of 50 runs here.
del learner, reference, loss, whole
distributed.shutdown()
