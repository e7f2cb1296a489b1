"""A small transformer encoder-decoder for token sequences (Vaswani et al. 2017, pre-norm).

An example, not a part of gymforge: no algorithm uses it (examples/seq2seq_reverse.py trains it)."""

from __future__ import annotations

import torch
from gymforge.networks.positional import make_positional_encoding
from gymforge.networks.transformer import TransformerDecoder, TransformerEncoder
from torch import nn


class TransformerSeq2Seq(nn.Module):
    """Source tokens (B, Ts) -> encoder memory; target tokens so far (B, Tt) -> next-token logits.

    Padding masks are (B, T) bool, True at padding. Training feeds the target shifted right (teacher
    forcing); `generate` decodes greedily from a start token.
    """

    def __init__(
        self,
        source_vocab: int,
        target_vocab: int,
        embed_dim: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        max_len: int = 256,
        positional: str = "sinusoidal",
    ) -> None:
        super().__init__()
        self.source_embedding = nn.Embedding(source_vocab, embed_dim)
        self.target_embedding = nn.Embedding(target_vocab, embed_dim)
        self.source_positions = make_positional_encoding(positional, embed_dim, max_len)
        self.target_positions = make_positional_encoding(positional, embed_dim, max_len)
        self.encoder = TransformerEncoder(num_layers, embed_dim, num_heads, mlp_ratio, dropout)
        self.decoder = TransformerDecoder(num_layers, embed_dim, num_heads, mlp_ratio, dropout)
        self.output = nn.Linear(embed_dim, target_vocab)

    def encode(self, source: torch.Tensor, source_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """source (B, Ts) -> memory (B, Ts, E)."""
        return self.encoder(self.source_positions(self.source_embedding(source)), source_padding_mask)

    def decode(
        self,
        target_in: torch.Tensor,
        memory: torch.Tensor,
        target_padding_mask: torch.Tensor | None = None,
        source_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """target_in (B, Tt), memory (B, Ts, E) -> logits (B, Tt, V); position t sees tokens <= t."""
        x = self.target_positions(self.target_embedding(target_in))  # (B, Tt, E)
        return self.output(self.decoder(x, memory, target_padding_mask, source_padding_mask))

    def forward(
        self,
        source: torch.Tensor,
        target_in: torch.Tensor,
        source_padding_mask: torch.Tensor | None = None,
        target_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Teacher-forced logits (B, Tt, target_vocab)."""
        memory = self.encode(source, source_padding_mask)
        return self.decode(target_in, memory, target_padding_mask, source_padding_mask)

    @torch.no_grad()
    def generate(
        self,
        source: torch.Tensor,
        start_token: int,
        length: int,
        source_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Greedy decoding of `length` tokens after `start_token` -> (B, length)."""
        memory = self.encode(source, source_padding_mask)
        tokens = torch.full((source.shape[0], 1), start_token, dtype=torch.long, device=source.device)
        for _ in range(length):
            logits = self.decode(tokens, memory, source_padding_mask=source_padding_mask)  # (B, t, V)
            tokens = torch.cat([tokens, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        return tokens[:, 1:]
