"""Pre-norm transformer blocks and stacks (batch first): x + sublayer(LayerNorm(x)) trains stably without
the warmup that post-norm needs."""

from __future__ import annotations

import torch
from gymforge.networks.mlp import MLP
from gymforge.networks.multihead import MultiHeadAttention
from torch import nn


class TransformerEncoderBlock(nn.Module):
    """x + attention(norm(x)), then x + feed-forward(norm(x)); `causal` turns it into a GPT block."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(embed_dim)
        self.attention = MultiHeadAttention(embed_dim, num_heads, dropout=dropout)
        self.feed_forward_norm = nn.LayerNorm(embed_dim)
        self.feed_forward = MLP(embed_dim, [int(mlp_ratio * embed_dim)], embed_dim, activation=activation)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None, causal: bool = False
    ) -> torch.Tensor:
        """x (B, T, E), key_padding_mask (B, T) True at padding -> (B, T, E)."""
        normed = self.attention_norm(x)
        x = x + self.dropout(self.attention(normed, key_padding_mask=key_padding_mask, causal=causal)[0])
        return x + self.dropout(self.feed_forward(self.feed_forward_norm(x)))


class TransformerDecoderBlock(TransformerEncoderBlock):
    """The encoder block's self-attention made causal, then cross-attention to the encoder memory, then its
    feed-forward, all pre-norm residual."""

    def __init__(self, embed_dim: int, num_heads: int, mlp_ratio: float = 4.0, dropout: float = 0.0,
                 activation: str = "gelu") -> None:
        super().__init__(embed_dim, num_heads, mlp_ratio, dropout, activation)
        self.cross_attention_norm = nn.LayerNorm(embed_dim)
        self.cross_attention = MultiHeadAttention(embed_dim, num_heads, dropout=dropout)

    def forward(  # type: ignore[override]
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        memory_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x (B, Tt, E), memory (B, Ts, E), masks (B, Tt) / (B, Ts) True at padding -> (B, Tt, E)."""
        normed = self.attention_norm(x)
        x = x + self.dropout(self.attention(normed, key_padding_mask=padding_mask, causal=True)[0])
        normed = self.cross_attention_norm(x)
        x = x + self.dropout(self.cross_attention(normed, memory, key_padding_mask=memory_padding_mask)[0])
        return x + self.dropout(self.feed_forward(self.feed_forward_norm(x)))


class BlockStack(nn.Module):
    """`num_layers` blocks of the subclass's `block` kind and a final LayerNorm (pre-norm stacks need one)."""

    block: type[nn.Module]

    def __init__(
        self,
        num_layers: int,
        embed_dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            self.block(embed_dim, num_heads, mlp_ratio, dropout, activation) for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(embed_dim)


class TransformerEncoder(BlockStack):
    """`num_layers` encoder blocks and a final LayerNorm."""

    block = TransformerEncoderBlock

    def forward(
        self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None, causal: bool = False
    ) -> torch.Tensor:
        """x (B, T, E) -> (B, T, E)."""
        for block in self.blocks:
            x = block(x, key_padding_mask, causal)
        return self.norm(x)


class TransformerDecoder(BlockStack):
    """`num_layers` decoder blocks and a final LayerNorm."""

    block = TransformerDecoderBlock

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        memory_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x (B, Tt, E), memory (B, Ts, E) -> (B, Tt, E)."""
        for block in self.blocks:
            x = block(x, memory, padding_mask, memory_padding_mask)
        return self.norm(x)
