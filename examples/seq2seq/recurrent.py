"""A recurrent encoder-decoder with attention (Bahdanau et al. 2015; Luong et al. 2015 input feeding).

An example, not a part of gymforge: no algorithm uses it (examples/seq2seq_reverse.py trains it)."""

from __future__ import annotations

import torch
from gymforge.networks.attention import AdditiveAttention, MultiplicativeAttention
from gymforge.networks.recurrent import RecurrentCore, State
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

SEQ2SEQ_ATTENTIONS = ("additive", "general", "dot")


class RecurrentSeq2Seq(nn.Module):
    """A (bidirectional) LSTM/GRU encoder; a decoder that attends to every encoder step at each output step.

    Each decoder step reads the previous target token and the previous attentional vector
    tanh(W [h; context]), from which the logits come. The decoder starts from tanh(Linear(mean of the
    encoder outputs)). Padding masks are (B, Ts) bool, True at padding, and the source is packed so padding
    never enters the encoder states.
    """

    def __init__(
        self,
        source_vocab: int,
        target_vocab: int,
        embed_dim: int = 64,
        hidden_size: int = 128,
        kind: str = "gru",
        attention: str = "additive",
        bidirectional_encoder: bool = True,
    ) -> None:
        super().__init__()
        if attention not in SEQ2SEQ_ATTENTIONS:
            raise ValueError(f"Unknown attention {attention!r}; choose one of {list(SEQ2SEQ_ATTENTIONS)}.")
        self.source_embedding = nn.Embedding(source_vocab, embed_dim)
        self.target_embedding = nn.Embedding(target_vocab, embed_dim)
        self.encoder = RecurrentCore(kind, embed_dim, hidden_size, bidirectional=bidirectional_encoder)
        memory_dim = self.encoder.output_dim
        self.bridge = nn.Linear(memory_dim, hidden_size)
        self.decoder = RecurrentCore(kind, embed_dim + hidden_size, hidden_size)
        if attention == "additive":
            self.attention: nn.Module = AdditiveAttention(hidden_size, memory_dim, hidden_size)
        else:
            self.attention = MultiplicativeAttention(hidden_size, memory_dim, attention)
        self.combine = nn.Linear(hidden_size + memory_dim, hidden_size)
        self.output = nn.Linear(hidden_size, target_vocab)
        self.hidden_size = hidden_size

    def encode(
        self, source: torch.Tensor, source_padding_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, State, torch.Tensor]:
        """source (B, Ts) -> memory (B, Ts, D), first decoder state, zero attentional vector (B, H)."""
        embedded = self.source_embedding(source).transpose(0, 1)  # (Ts, B, E)
        if source_padding_mask is None:
            memory, _ = self.encoder(embedded)  # (Ts, B, D)
            summary = memory.mean(0)  # (B, D)
        else:
            lengths = (~source_padding_mask).sum(1)  # (B,)
            packed = pack_padded_sequence(embedded, lengths.cpu(), enforce_sorted=False)
            memory, _ = pad_packed_sequence(self.encoder.rnn(packed)[0], total_length=source.shape[1])
            summary = memory.sum(0) / lengths.unsqueeze(1)  # padded steps come back as zeros
        hidden = torch.tanh(self.bridge(summary)).unsqueeze(0)  # (1, B, H)
        state = (hidden, torch.zeros_like(hidden)) if self.decoder.kind == "lstm" else hidden
        return memory.transpose(0, 1), state, hidden.new_zeros(source.shape[0], self.hidden_size)

    def step(
        self,
        token: torch.Tensor,
        state: State,
        attentional: torch.Tensor,
        memory: torch.Tensor,
        source_padding_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, State, torch.Tensor]:
        """One output step: token (B,) -> logits (B, V), new state, new attentional vector (B, H)."""
        inputs = torch.cat([self.target_embedding(token), attentional], dim=-1)  # (B, E + H)
        hidden, state = self.decoder(inputs, state)  # (B, H)
        context, _ = self.attention(hidden, memory, key_padding_mask=source_padding_mask)  # (B, D)
        attentional = torch.tanh(self.combine(torch.cat([hidden, context], dim=-1)))  # (B, H)
        return self.output(attentional), state, attentional

    def forward(
        self, source: torch.Tensor, target_in: torch.Tensor, source_padding_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Teacher-forced logits (B, Tt, target_vocab) for target_in (B, Tt)."""
        memory, state, attentional = self.encode(source, source_padding_mask)
        logits = []
        for t in range(target_in.shape[1]):
            step_logits, state, attentional = self.step(
                target_in[:, t], state, attentional, memory, source_padding_mask
            )
            logits.append(step_logits)
        return torch.stack(logits, dim=1)

    @torch.no_grad()
    def generate(
        self,
        source: torch.Tensor,
        start_token: int,
        length: int,
        source_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Greedy decoding of `length` tokens after `start_token` -> (B, length)."""
        memory, state, attentional = self.encode(source, source_padding_mask)
        token = torch.full((source.shape[0],), start_token, dtype=torch.long, device=source.device)
        tokens = []
        for _ in range(length):
            logits, state, attentional = self.step(token, state, attentional, memory, source_padding_mask)
            token = logits.argmax(-1)
            tokens.append(token)
        return torch.stack(tokens, dim=1)
