"""Neural-network building blocks shared by agents/ and generative/; imports only torch and numpy."""

from gymforge.networks.activations import ACTIVATIONS, make_activation
from gymforge.networks.attention import LUONG_SCORES, AdditiveAttention, MultiplicativeAttention
from gymforge.networks.conv_decoder import ConvDecoder, conv_transpose_output_size
from gymforge.networks.conv_encoder import ConvEncoder, conv_output_size
from gymforge.networks.distributions import (
    BernoulliHead,
    CategoricalHead,
    DiagGaussianHead,
    MultiCategorical,
    MultiCategoricalHead,
)
from gymforge.networks.image_encoders import NatureCNN, SmallCNN
from gymforge.networks.init import INITIALIZERS, init_module, initialize_, layer_init
from gymforge.networks.losses import cross_entropy, huber, mse
from gymforge.networks.mlp import MLP
from gymforge.networks.multihead import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from gymforge.networks.optim import OPTIMIZERS, make_optimizer, parameter_groups
from gymforge.networks.positional import (
    POSITIONAL_ENCODINGS,
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    make_positional_encoding,
)
from gymforge.networks.recurrent import RECURRENT_KINDS, RecurrentCore
from gymforge.networks.regularization import clip_gradients
from gymforge.networks.residual import ResidualBlock
from gymforge.networks.schedules import ScheduleKind, interpolate
from gymforge.networks.standardize import Standardize
from gymforge.networks.transformer import (
    TransformerDecoder,
    TransformerDecoderBlock,
    TransformerEncoder,
    TransformerEncoderBlock,
)

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LUONG_SCORES",
    "MLP",
    "OPTIMIZERS",
    "POSITIONAL_ENCODINGS",
    "RECURRENT_KINDS",
    "AdditiveAttention",
    "BernoulliHead",
    "CategoricalHead",
    "ConvDecoder",
    "ConvEncoder",
    "DiagGaussianHead",
    "LearnedPositionalEncoding",
    "MultiCategorical",
    "MultiCategoricalHead",
    "MultiHeadAttention",
    "MultiplicativeAttention",
    "NatureCNN",
    "RecurrentCore",
    "ResidualBlock",
    "ScheduleKind",
    "SinusoidalPositionalEncoding",
    "Standardize",
    "SmallCNN",
    "TransformerDecoder",
    "TransformerDecoderBlock",
    "TransformerEncoder",
    "TransformerEncoderBlock",
    "causal_mask",
    "clip_gradients",
    "conv_output_size",
    "conv_transpose_output_size",
    "cross_entropy",
    "huber",
    "init_module",
    "initialize_",
    "interpolate",
    "layer_init",
    "make_activation",
    "make_optimizer",
    "make_positional_encoding",
    "mse",
    "parameter_groups",
    "scaled_dot_product_attention",
]
