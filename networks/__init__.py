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
from gymforge.networks.losses import (
    LOSSES,
    bce_with_logits,
    cross_entropy,
    huber,
    mae,
    make_loss,
    mse,
    pseudo_huber,
    smooth_labels,
)
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
from gymforge.networks.regularization import clip_gradients, l1_penalty, l2_penalty
from gymforge.networks.residual import ResidualBlock
from gymforge.networks.standardize import Standardize
from gymforge.networks.schedules import (
    SCHEDULES,
    ScheduleKind,
    interpolate,
    make_lr_scheduler,
    make_schedule,
    schedule_value,
)
from gymforge.networks.seq2seq_recurrent import SEQ2SEQ_ATTENTIONS, RecurrentSeq2Seq
from gymforge.networks.seq2seq_transformer import TransformerSeq2Seq
from gymforge.networks.transformer import (
    TransformerDecoder,
    TransformerDecoderBlock,
    TransformerEncoder,
    TransformerEncoderBlock,
)

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "LUONG_SCORES",
    "MLP",
    "OPTIMIZERS",
    "POSITIONAL_ENCODINGS",
    "RECURRENT_KINDS",
    "SCHEDULES",
    "SEQ2SEQ_ATTENTIONS",
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
    "RecurrentSeq2Seq",
    "ResidualBlock",
    "ScheduleKind",
    "SinusoidalPositionalEncoding",
    "Standardize",
    "SmallCNN",
    "TransformerDecoder",
    "TransformerDecoderBlock",
    "TransformerEncoder",
    "TransformerEncoderBlock",
    "TransformerSeq2Seq",
    "bce_with_logits",
    "causal_mask",
    "clip_gradients",
    "conv_output_size",
    "conv_transpose_output_size",
    "cross_entropy",
    "huber",
    "init_module",
    "initialize_",
    "interpolate",
    "l1_penalty",
    "l2_penalty",
    "layer_init",
    "mae",
    "make_activation",
    "make_loss",
    "make_lr_scheduler",
    "make_optimizer",
    "make_positional_encoding",
    "make_schedule",
    "mse",
    "parameter_groups",
    "pseudo_huber",
    "scaled_dot_product_attention",
    "schedule_value",
    "smooth_labels",
]
