"""Pick the feature encoder a prepared observation space calls for (envs/observations.py prepares every env's
observations): an MLP for vectors, a small CNN or the Nature CNN for images, and for Dict observations a
multi-input encoder (a CNN per image key, then one MLP over the CNN features and the "vector" key together)."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import torch
from gymforge.envs.observations import MASK_KEY, NEURAL_OBSERVATIONS, image_layout
from gymforge.networks import MLP, NatureCNN, SmallCNN
from torch import nn

from gymforge.engine.errors import ConfigError


def is_image_space(space: gym.Space) -> bool:
    """Channel-first uint8 images as prepared (Catch's (1, 10, 10), Atari's stacked (4, 84, 84)), by the
    pipeline's one rule (envs.observations.image_layout)."""
    return image_layout(space) == "CHW"


def image_encoder(space: gym.Space, features_dim: int | None = None) -> nn.Module:
    """Images with a side under 36 pixels get the small CNN (Nature's 8x8 stride-4 first layer needs 36 on
    each side); larger ones the Nature CNN. Both scale uint8 pixels to [0, 1] themselves."""
    height, width = space.shape[1:]
    if min(height, width) < 36:
        return SmallCNN(space.shape, features_dim=features_dim or 256, scale=True)
    return NatureCNN(space.shape, features_dim=features_dim or 512, scale=True)


class MultiInputEncoder(nn.Module):
    """Dict observations {image keys: (B, C, H, W) uint8, "vector": (B, F)} -> (B, features): a CNN per image
    key, then one MLP over the CNN features and the vector concatenated, so the features can combine what the
    image and the vector say (a linear head over separate encodings could not compute, e.g., their XOR).
    The "action_mask" key is the policy's, not a feature."""

    def __init__(self, space: gym.spaces.Dict, hidden_sizes: Sequence[int], activation: str) -> None:
        super().__init__()
        self.images = nn.ModuleDict()
        self.vector_keys: list[str] = []
        width = 0
        for key, part in space.spaces.items():
            if key == MASK_KEY:
                continue
            if is_image_space(part):
                self.images[key] = image_encoder(part)
                width += self.images[key].output_dim
            elif isinstance(part, gym.spaces.Box) and len(part.shape) == 1:
                self.vector_keys.append(key)
                width += part.shape[0]
            else:
                raise ConfigError(f"no encoder for the observation part {key}: {part}")
        self.mlp = MLP(width, list(hidden_sizes), activation=activation)  # ends at its hidden activation
        self.output_dim = self.mlp.output_dim

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        parts = [encoder(observations[key]) for key, encoder in self.images.items()]
        parts += [observations[key].float() for key in self.vector_keys]
        return self.mlp(torch.cat(parts, dim=-1))  # (B, hidden_sizes[-1])


def make_encoder(space: gym.Space, hidden_sizes: Sequence[int] = (64, 64), activation: str = "tanh",
                 features_dim: int | None = None) -> tuple[nn.Module, int]:
    """(encoder, output features) for a prepared observation space."""
    if isinstance(space, gym.spaces.Dict):
        encoder = MultiInputEncoder(space, hidden_sizes, activation)
        return encoder, encoder.output_dim
    if is_image_space(space):
        encoder = image_encoder(space, features_dim)
        return encoder, encoder.output_dim
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
        encoder = MLP(space.shape[0], list(hidden_sizes), activation=activation)  # ends at its hidden activation
        return encoder, encoder.output_dim
    raise ConfigError(f"no encoder for observation space {space}: {NEURAL_OBSERVATIONS}")


def observation_batch(observations: object, device: torch.device | str = "cpu") -> object:
    """A batch of prepared observations (an array or a dict of arrays) as tensors on `device`."""
    if isinstance(observations, dict):
        return {key: torch.as_tensor(np.asarray(value), device=device) for key, value in observations.items()}
    return torch.as_tensor(np.asarray(observations), device=device)
