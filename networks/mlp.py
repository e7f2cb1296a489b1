"""A multilayer perceptron built from a list of layer sizes: the default body of value and policy networks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from gymforge.networks.activations import make_activation
from torch import nn

NORMS = ("batch", "layer")


class MLP(nn.Sequential):
    """Linear layers of `hidden_sizes` with `activation` between them, then a Linear to `output_dim`.

    Each hidden layer is Linear -> [norm] -> activation -> [dropout]. With `output_dim=None` the network
    ends at the last hidden layer (a feature extractor) and `output_dim` reports that width.
    """

    def __init__(
        self,
        input_dim: int,
        hidden_sizes: Sequence[int],
        output_dim: int | None = None,
        activation: str = "relu",
        norm: str | None = None,
        dropout: float = 0.0,
        output_activation: str | None = None,
    ) -> None:
        if norm is not None and norm not in NORMS:
            raise ValueError(f"Unknown norm {norm!r}; choose one of {list(NORMS)} or None.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        layers: list[nn.Module] = []
        width = input_dim
        for size in hidden_sizes:
            layers.append(nn.Linear(width, size))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(size))
            elif norm == "layer":
                layers.append(nn.LayerNorm(size))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        if output_dim is not None:
            layers.append(nn.Linear(width, output_dim))
            width = output_dim
        if output_activation is not None:
            layers.append(make_activation(output_activation))
        super().__init__(*layers)
        self.input_dim = input_dim
        self.output_dim = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., input_dim) -> (..., output_dim); extra leading dims are flattened for batch norm."""
        leading = x.shape[:-1]
        y = super().forward(x.reshape(-1, x.shape[-1]))  # (N, output_dim)
        return y.reshape(*leading, self.output_dim)
