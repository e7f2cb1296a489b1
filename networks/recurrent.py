"""LSTM/GRU with explicit state that is reset where an episode starts inside a sequence (recurrent PPO)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

RECURRENT_KINDS = ("lstm", "gru")

# An LSTM state is (h, c), a GRU state is h; each tensor is (num_layers * directions, B, hidden_size).
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class RecurrentCore(nn.Module):
    """nn.LSTM or nn.GRU over time-major input (T, B, F) whose state is zeroed at episode starts.

    `forward(x, state, episode_starts)`: where episode_starts[t, b] is 1 the state entering step t of
    column b is zero, so no memory leaks across episodes. The result equals running each episode segment
    separately: the first segment of a column from the given state (unless it starts an episode), later
    ones from zeros. All segments go through the RNN in one packed call; with no start after step 0 it
    is one plain call. A bidirectional core's backward pass likewise stays inside each segment.
    """

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if kind not in RECURRENT_KINDS:
            raise ValueError(f"Unknown recurrent kind {kind!r}; choose one of {list(RECURRENT_KINDS)}.")
        rnn_class = nn.LSTM if kind == "lstm" else nn.GRU
        self.rnn = rnn_class(
            input_size, hidden_size, num_layers, dropout=dropout, bidirectional=bidirectional
        )
        self.kind = kind
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.directions = 2 if bidirectional else 1
        self.output_dim = hidden_size * self.directions

    def initial_state(self, batch_size: int, device: torch.device | str | None = None) -> State:
        """Zeros of the right shape: (h, c) for an LSTM, h for a GRU, each (layers * directions, B, H)."""
        zeros = torch.zeros(self.num_layers * self.directions, batch_size, self.hidden_size, device=device)
        return (zeros, zeros.clone()) if self.kind == "lstm" else zeros

    def forward(
        self, x: torch.Tensor, state: State | None = None, episode_starts: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, State]:
        """x (T, B, F) and episode_starts (T, B) -> out (T, B, directions * H), new state.

        A single step may be given as x (B, F) with episode_starts (B,); out is then (B, directions * H).
        """
        single_step = x.dim() == 2
        if single_step:
            x = x.unsqueeze(0)
            episode_starts = None if episode_starts is None else episode_starts.unsqueeze(0)
        steps, batch = x.shape[:2]
        if state is None:
            state = self.initial_state(batch, x.device)
        if episode_starts is None:
            episode_starts = torch.zeros(steps, batch, device=x.device)
        starts = episode_starts.to(device=x.device, dtype=torch.bool)  # (T, B)

        if starts[1:].any():
            out, new_state = self._segments(x, state, starts)
        else:  # at most step 0 resets: one plain call
            keep = (~starts[0]).to(x.dtype).view(1, batch, 1)
            out, new_state = self.rnn(x, _map_state(state, lambda s: s * keep))
        return (out.squeeze(0) if single_step else out), new_state

    def _segments(self, x: torch.Tensor, state: State, starts: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Cut every column at its episode starts, run all pieces as one packed batch, stitch them back."""
        steps, batch = starts.shape
        boundaries = starts.clone()
        boundaries[0] = True  # every column's first segment begins at step 0
        per_column = boundaries.sum(0)  # (B,) segments per column
        first_segment = torch.cumsum(per_column, 0) - per_column  # (B,) index of each column's first segment
        segment = first_segment + torch.cumsum(boundaries.long(), 0) - 1  # (T, B) segment id of each step
        times = torch.arange(steps, device=x.device).unsqueeze(1).expand(steps, batch)
        segment_begin = torch.zeros(int(per_column.sum()), dtype=torch.long, device=x.device)
        segment_begin[segment[boundaries]] = times[boundaries]
        offset = times - segment_begin[segment]  # (T, B) position inside the segment
        lengths = torch.bincount(segment.flatten(), minlength=len(segment_begin))  # (N,)

        padded = x.new_zeros(int(lengths.max()), len(lengths), x.shape[-1])  # (L, N, F)
        padded[offset, segment] = x
        # The given state enters a column's first segment unless that segment starts an episode.
        keep = (~starts[0]).to(x.dtype).view(1, batch, 1)

        def segment_state(given: torch.Tensor) -> torch.Tensor:
            entering = given.new_zeros(given.shape[0], len(lengths), given.shape[2])  # (layers*dirs, N, H)
            entering[:, first_segment] = given * keep
            return entering

        packed = pack_padded_sequence(padded, lengths.cpu(), enforce_sorted=False)
        packed_out, final = self.rnn(packed, _map_state(state, segment_state))
        padded_out, _ = pad_packed_sequence(packed_out)  # (L, N, directions * H)
        out = padded_out[offset, segment]  # (T, B, directions * H)
        last_segment = first_segment + per_column - 1
        return out, _map_state(final, lambda s: s[:, last_segment])


def _map_state(state: State, function: Callable[[torch.Tensor], torch.Tensor]) -> State:
    """Apply `function` to h, or to both h and c of an LSTM state."""
    return tuple(function(s) for s in state) if isinstance(state, tuple) else function(state)
