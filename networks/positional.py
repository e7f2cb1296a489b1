"""Positional encodings: attention is order-blind, so each position's embedding gets its index added in."""

from __future__ import annotations

import math

import torch
from torch import nn

POSITIONAL_ENCODINGS = ("sinusoidal", "learned")


class SinusoidalPositionalEncoding(nn.Module):
    """Vaswani et al. 2017: PE[p, 2i] = sin(p / 10000^(2i/E)), PE[p, 2i+1] = cos(same); no parameters."""

    def __init__(self, embed_dim: int, max_len: int = 4096) -> None:
        super().__init__()
        positions = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)  # (max_len, 1)
        frequencies = torch.exp(
            torch.arange(0, embed_dim, 2, dtype=torch.float32) * (-math.log(10000.0) / embed_dim)
        )
        table = torch.zeros(max_len, embed_dim)
        table[:, 0::2] = torch.sin(positions * frequencies)
        table[:, 1::2] = torch.cos(positions * frequencies[: embed_dim // 2])
        self.register_buffer("table", table, persistent=False)  # (max_len, E)
        self.max_len = max_len

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """x (B, T, E) -> x + PE[offset : offset + T]."""
        _check_length(offset + x.shape[1], self.max_len)
        return x + self.table[offset : offset + x.shape[1]]


class LearnedPositionalEncoding(nn.Module):
    """One trained vector per position (GPT-2 style), N(0, 0.02) at the start."""

    def __init__(self, embed_dim: int, max_len: int = 512) -> None:
        super().__init__()
        self.embedding = nn.Embedding(max_len, embed_dim)
        nn.init.normal_(self.embedding.weight, std=0.02)
        self.max_len = max_len

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """x (B, T, E) -> x + P[offset : offset + T]."""
        _check_length(offset + x.shape[1], self.max_len)
        positions = torch.arange(offset, offset + x.shape[1], device=x.device)
        return x + self.embedding(positions)


def _check_length(length: int, max_len: int) -> None:
    if length > max_len:
        raise ValueError(f"Sequence reaches position {length} but the encoding has max_len {max_len}.")


def make_positional_encoding(name: str, embed_dim: int, max_len: int) -> nn.Module:
    """ "sinusoidal" or "learned" positional encoding by name."""
    if name == "sinusoidal":
        return SinusoidalPositionalEncoding(embed_dim, max_len)
    if name == "learned":
        return LearnedPositionalEncoding(embed_dim, max_len)
    raise ValueError(f"Unknown positional encoding {name!r}; choose one of {list(POSITIONAL_ENCODINGS)}.")
