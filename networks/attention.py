"""Additive (Bahdanau) and multiplicative (Luong) attention: a query scores every key, and the context is
the softmax-weighted sum of the values. These are the attentions of recurrent encoder-decoders."""

from __future__ import annotations

import math

import torch
from torch import nn

LUONG_SCORES = ("dot", "general")


def _attend(
    scores: torch.Tensor, values: torch.Tensor, key_padding_mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """scores (B, Tq, Tk), values (B, Tk, Dv) -> context (B, Tq, Dv), weights (B, Tq, Tk)."""
    if key_padding_mask is not None:  # (B, Tk), True marks padding
        scores = scores.masked_fill(key_padding_mask.unsqueeze(1), float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ values, weights


class _QueryKeyAttention(nn.Module):
    """The shared calling convention: one query (B, Dq) or a sequence of them (B, Tq, Dq)."""

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, [Tq,] Dq), keys (B, Tk, Dk), values (B, Tk, Dv) or None for the keys themselves,
        key_padding_mask (B, Tk) with True at padding -> context (B, [Tq,] Dv), weights (B, [Tq,] Tk)."""
        single = query.dim() == 2
        if single:
            query = query.unsqueeze(1)  # (B, 1, Dq)
        context, weights = _attend(
            self.scores(query, keys), keys if values is None else values, key_padding_mask
        )
        return (context.squeeze(1), weights.squeeze(1)) if single else (context, weights)


class AdditiveAttention(_QueryKeyAttention):
    """Bahdanau et al. 2015: score(q, k) = v^T tanh(W_q q + W_k k), a small MLP over query and key."""

    def __init__(self, query_dim: int, key_dim: int, attention_dim: int) -> None:
        super().__init__()
        self.query_proj = nn.Linear(query_dim, attention_dim, bias=False)
        self.key_proj = nn.Linear(key_dim, attention_dim)
        self.score_proj = nn.Linear(attention_dim, 1, bias=False)

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """query (B, Tq, Dq), keys (B, Tk, Dk) -> (B, Tq, Tk)."""
        hidden = torch.tanh(
            self.query_proj(query).unsqueeze(2) + self.key_proj(keys).unsqueeze(1)
        )  # (B,Tq,Tk,A)
        return self.score_proj(hidden).squeeze(-1)


class MultiplicativeAttention(_QueryKeyAttention):
    """Luong et al. 2015: score(q, k) = q . k ("dot") or q^T W k ("general"); `scaled` divides by sqrt(Dk)."""

    def __init__(self, query_dim: int, key_dim: int, score: str = "general", scaled: bool = False) -> None:
        super().__init__()
        if score not in LUONG_SCORES:
            raise ValueError(f"Unknown Luong score {score!r}; choose one of {list(LUONG_SCORES)}.")
        if score == "dot" and query_dim != key_dim:
            raise ValueError(f"The 'dot' score needs query_dim == key_dim, got {query_dim} and {key_dim}.")
        self.key_proj = nn.Linear(key_dim, query_dim, bias=False) if score == "general" else nn.Identity()
        self.scale = 1.0 / math.sqrt(key_dim) if scaled else 1.0

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """query (B, Tq, Dq), keys (B, Tk, Dk) -> (B, Tq, Tk)."""
        return self.scale * query @ self.key_proj(keys).transpose(1, 2)
