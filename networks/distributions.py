"""Policy heads: modules that map features to an action distribution with log_prob, entropy, mode and sample.

Categorical and diagonal Gaussian are torch.distributions (the Gaussian wrapped in Independent so log_prob
and entropy are summed over action dimensions); MultiDiscrete spaces get `MultiCategorical`, MultiBinary
spaces independent Bernoullis. Categorical heads take an optional action mask (1 = legal): illegal actions get
a logit of -1e8, so they are never sampled, never the mode, and add nothing to the entropy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from gymforge.networks.init import layer_init
from torch import nn
from torch.distributions import Bernoulli, Categorical, Distribution, Independent, Normal, constraints

ILLEGAL_LOGIT = -1e8  # not -inf: 0 * -inf would make the entropy NaN


def mask_logits(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Logits (B, A) with illegal actions (mask 0) pushed to ILLEGAL_LOGIT; no mask leaves them as they are."""
    if mask is None:
        return logits
    return logits.masked_fill(~mask.bool(), ILLEGAL_LOGIT)


class MultiCategorical(Distribution):
    """Independent categoricals, one per MultiDiscrete dimension; log_prob and entropy sum over them."""

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"logits": constraints.real}
    has_rsample = False

    def __init__(self, logits: torch.Tensor, nvec: Sequence[int], validate_args: bool | None = None) -> None:
        self.nvec = [int(n) for n in nvec]
        self.logits = logits  # (B, sum(nvec))
        self.categoricals = [Categorical(logits=chunk, validate_args=False)
                             for chunk in torch.split(logits, self.nvec, dim=-1)]
        super().__init__(
            batch_shape=logits.shape[:-1],
            event_shape=torch.Size([len(self.nvec)]),
            validate_args=validate_args,
        )

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """actions (B, D) integer -> (B,)."""
        return torch.stack([c.log_prob(a) for c, a in zip(self.categoricals, actions.unbind(-1))], -1).sum(-1)

    def entropy(self) -> torch.Tensor:
        return torch.stack([c.entropy() for c in self.categoricals], dim=-1).sum(-1)

    @property
    def mode(self) -> torch.Tensor:
        return torch.stack([c.mode for c in self.categoricals], dim=-1)  # (B, D)

    def sample(self, sample_shape: torch.Size | tuple[int, ...] = ()) -> torch.Tensor:
        return torch.stack([c.sample(sample_shape) for c in self.categoricals], dim=-1)


class CategoricalHead(nn.Module):
    """Features -> Categorical over `num_actions` (Discrete); a small init keeps the first policy uniform."""

    def __init__(self, in_features: int, num_actions: int, init_gain: float = 0.01) -> None:
        super().__init__()
        self.logits = layer_init(nn.Linear(in_features, num_actions), gain=init_gain)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> Categorical:
        # validate_args=False: the checks cost about a quarter of a small policy's step, and heads only ever
        # score their own outputs and samples.
        logits = mask_logits(self.logits(features), mask)  # (B, num_actions)
        return Categorical(logits=logits, validate_args=False)


class MultiCategoricalHead(nn.Module):
    """Features -> MultiCategorical for a MultiDiscrete space with choices `nvec`."""

    def __init__(self, in_features: int, nvec: Sequence[int], init_gain: float = 0.01) -> None:
        super().__init__()
        self.nvec = [int(n) for n in nvec]
        self.logits = layer_init(nn.Linear(in_features, sum(self.nvec)), gain=init_gain)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> MultiCategorical:
        """`mask` (B, sum(nvec)): the legal choices of every dimension, concatenated."""
        return MultiCategorical(mask_logits(self.logits(features), mask), self.nvec, validate_args=False)


class _Bernoulli(Bernoulli):
    """Bernoulli whose mode is 1 from p >= 0.5 on (torch's is NaN at exactly 0.5, which an env cannot take)."""

    @property
    def mode(self) -> torch.Tensor:
        return (self.logits >= 0).to(self.logits)


class BernoulliHead(nn.Module):
    """Features -> independent Bernoullis, one per MultiBinary dimension; log_prob/entropy summed over them."""

    def __init__(self, in_features: int, size: int, init_gain: float = 0.01) -> None:
        super().__init__()
        self.logits = layer_init(nn.Linear(in_features, size), gain=init_gain)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> Independent:
        bernoulli = _Bernoulli(logits=self.logits(features), validate_args=False)  # (B, size)
        return Independent(bernoulli, 1, validate_args=False)


class DiagGaussianHead(nn.Module):
    """Features -> Normal with diagonal covariance (Box spaces), log_prob/entropy summed over action dims.

    The log-std is a free parameter shared by all states (PPO's usual choice) or, with
    `state_dependent_std=True`, a second linear output of the features (SAC's choice), clamped to
    `log_std_bounds` so the policy can neither collapse nor explode.
    """

    def __init__(
        self,
        in_features: int,
        action_dim: int,
        state_dependent_std: bool = False,
        log_std_init: float = 0.0,
        log_std_bounds: tuple[float, float] = (-20.0, 2.0),
        init_gain: float = 0.01,
    ) -> None:
        super().__init__()
        self.state_dependent_std = state_dependent_std
        self.log_std_bounds = log_std_bounds
        self.mean = layer_init(nn.Linear(in_features, action_dim), gain=init_gain)
        if state_dependent_std:
            self.log_std = layer_init(nn.Linear(in_features, action_dim), gain=init_gain, bias=log_std_init)
        else:
            self.log_std = nn.Parameter(torch.full((action_dim,), float(log_std_init)))

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> Independent:
        mean = self.mean(features)  # (B, action_dim)
        log_std = self.log_std(features) if self.state_dependent_std else self.log_std.expand_as(mean)
        log_std = log_std.clamp(*self.log_std_bounds)
        return Independent(Normal(mean, log_std.exp(), validate_args=False), 1, validate_args=False)
