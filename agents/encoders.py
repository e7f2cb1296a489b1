"""Pick the feature encoder an observation space calls for, from networks/: MLP, small CNN or Nature CNN."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np
from torch import nn

from gymforge.errors import ConfigError
from networks import MLP, NatureCNN, SmallCNN


def is_image_space(space: gym.Space) -> bool:
    """Channel-first uint8 images (Catch's (1, 10, 10), Atari's stacked (4, 84, 84))."""
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 3 and space.dtype == np.uint8


def make_encoder(space: gym.Space, hidden_sizes: Sequence[int] = (64, 64), activation: str = "tanh",
                 features_dim: int | None = None) -> tuple[nn.Module, int]:
    """(encoder, output features). Vectors get an MLP; images up to 32x32 a small CNN; larger ones the Nature CNN.

    Image encoders scale uint8 pixels to [0, 1] themselves, so observations can stay uint8 until the network.
    """
    if is_image_space(space):
        height, width = space.shape[1:]
        if max(height, width) <= 32:
            encoder = SmallCNN(space.shape, features_dim=features_dim or 256, scale=True)
        else:
            encoder = NatureCNN(space.shape, features_dim=features_dim or 512, scale=True)
        return encoder, encoder.output_dim
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
        encoder = MLP(space.shape[0], list(hidden_sizes), activation=activation, output_activation=activation)
        return encoder, encoder.output_dim
    if isinstance(space, gym.spaces.Discrete):
        raise ConfigError(f"a neural agent needs vector or image observations, got {space}; wrap it with a one-hot "
                          "observation or use qlearning")
    raise ConfigError(f"no encoder for observation space {space}: gymforge handles flat Box vectors and "
                      "channel-first uint8 images")
