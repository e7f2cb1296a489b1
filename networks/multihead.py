"""Scaled dot-product and multi-head attention with causal and padding masks (batch first).

Mask convention, as in torch.nn.MultiheadAttention: boolean masks are True where attention is NOT allowed
(`key_padding_mask` (B, Tk) marks padding; `attn_mask` (Tq, Tk) or (B * heads, Tq, Tk) blocks pairs); a
float `attn_mask` is added to the scores. `causal=True` blocks every key after the query's position.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def causal_mask(
    query_len: int, key_len: int | None = None, device: torch.device | None = None
) -> torch.Tensor:
    """(Tq, Tk) bool, True above the diagonal: query i may look at keys 0..i only."""
    key_len = query_len if key_len is None else key_len
    return torch.ones(query_len, key_len, dtype=torch.bool, device=device).triu(1)


def scaled_dot_product_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d) + mask) v, written out so the weights can be returned and inspected.

    query (..., Tq, d), key (..., Tk, d), value (..., Tk, dv), mask broadcastable to (..., Tq, Tk) ->
    output (..., Tq, dv), weights (..., Tq, Tk). Rows with every key blocked get zero weights here (the
    fused path of MultiHeadAttention gives NaN for them, as torch does), so never block a whole row.
    """
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])  # (..., Tq, Tk)
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    if dropout > 0:
        weights = F.dropout(weights, dropout)
    return weights @ value, weights


class MultiHeadAttention(nn.Module):
    """Vaswani et al. 2017 multi-head attention, parameter-compatible with nn.MultiheadAttention.

    Projects queries, keys and values into `num_heads` heads of embed_dim / num_heads, attends per head,
    concatenates and projects back. Without `need_weights` it runs torch's fused
    F.scaled_dot_product_attention; with it, the explicit version so per-head weights come back.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        key_dim: int | None = None,
        value_dim: int | None = None,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim {embed_dim} must be divisible by num_heads {num_heads}.")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout = dropout
        self.query_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.key_proj = nn.Linear(key_dim or embed_dim, embed_dim, bias=bias)
        self.value_proj = nn.Linear(value_dim or embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, _ = x.shape
        return x.view(batch, steps, self.num_heads, self.head_dim).transpose(1, 2)  # (B, heads, T, head_dim)

    def _mask(
        self,
        batch: int,
        query_len: int,
        key_len: int,
        key_padding_mask: torch.Tensor | None,
        attn_mask: torch.Tensor | None,
        causal: bool,
        like: torch.Tensor,
    ) -> torch.Tensor | None:
        """All masks folded into one additive mask (B or 1, heads or 1, Tq, Tk) of `like`'s dtype, or None."""
        if key_padding_mask is None and attn_mask is None and not causal:
            return None
        mask = torch.zeros(1, 1, query_len, key_len, device=like.device, dtype=like.dtype)
        if causal:
            mask = mask.masked_fill(causal_mask(query_len, key_len, like.device), float("-inf"))
        if attn_mask is not None:
            if attn_mask.dim() == 3:  # (B * heads, Tq, Tk)
                attn_mask = attn_mask.view(batch, self.num_heads, query_len, key_len)
            mask = (
                mask.masked_fill(attn_mask, float("-inf"))
                if attn_mask.dtype == torch.bool
                else mask + attn_mask
            )
        if key_padding_mask is not None:
            padding = key_padding_mask.view(batch, 1, 1, key_len)
            if padding.dtype == torch.bool:
                mask = mask.masked_fill(padding, float("-inf"))
            else:
                mask = mask + padding
        return mask

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
        attn_mask: torch.Tensor | None = None,
        causal: bool = False,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """query (B, Tq, E), key (B, Tk, Ek) and value (B, Tk, Ev) default to the query (self-attention).

        Returns output (B, Tq, E) and, with `need_weights`, weights (B, heads, Tq, Tk), else None.
        """
        key = query if key is None else key
        value = key if value is None else value
        batch, query_len, key_len = query.shape[0], query.shape[1], key.shape[1]
        q = self._split_heads(self.query_proj(query))  # (B, heads, Tq, head_dim)
        k = self._split_heads(self.key_proj(key))  # (B, heads, Tk, head_dim)
        v = self._split_heads(self.value_proj(value))  # (B, heads, Tk, head_dim)
        dropout = self.dropout if self.training else 0.0
        if need_weights:
            mask = self._mask(batch, query_len, key_len, key_padding_mask, attn_mask, causal, q)
            out, weights = scaled_dot_product_attention(q, k, v, mask, dropout)
        else:
            # A purely causal square mask goes to the fused kernel as a flag, which is its fastest form.
            only_causal = causal and key_padding_mask is None and attn_mask is None and query_len == key_len
            mask = (
                None
                if only_causal
                else self._mask(batch, query_len, key_len, key_padding_mask, attn_mask, causal, q)
            )
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=only_causal
            )
            weights = None
        out = out.transpose(1, 2).reshape(batch, query_len, self.embed_dim)  # (B, Tq, E)
        return self.out_proj(out), weights
