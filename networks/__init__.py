"""Neural-network building blocks shared by agents/ and generative/; imports only torch and numpy."""

from networks.activations import ACTIVATIONS, make_activation
from networks.conv_decoder import ConvDecoder, conv_transpose_output_size
from networks.conv_encoder import ConvEncoder, conv_output_size
from networks.distributions import CategoricalHead, DiagGaussianHead, MultiCategorical, MultiCategoricalHead
from networks.image_encoders import NatureCNN, SmallCNN
from networks.init import INITIALIZERS, init_module, initialize_, layer_init
from networks.losses import (
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
from networks.mlp import MLP
from networks.optim import OPTIMIZERS, make_optimizer, parameter_groups
from networks.recurrent import RECURRENT_KINDS, RecurrentCore
from networks.regularization import clip_gradients, l1_penalty, l2_penalty
from networks.residual import ResidualBlock
from networks.schedules import SCHEDULES, make_lr_scheduler, make_schedule, schedule_value

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "MLP",
    "OPTIMIZERS",
    "RECURRENT_KINDS",
    "SCHEDULES",
    "CategoricalHead",
    "ConvDecoder",
    "ConvEncoder",
    "DiagGaussianHead",
    "MultiCategorical",
    "MultiCategoricalHead",
    "NatureCNN",
    "RecurrentCore",
    "ResidualBlock",
    "SmallCNN",
    "bce_with_logits",
    "clip_gradients",
    "conv_output_size",
    "conv_transpose_output_size",
    "cross_entropy",
    "huber",
    "init_module",
    "initialize_",
    "l1_penalty",
    "l2_penalty",
    "layer_init",
    "mae",
    "make_activation",
    "make_loss",
    "make_lr_scheduler",
    "make_optimizer",
    "make_schedule",
    "mse",
    "parameter_groups",
    "pseudo_huber",
    "schedule_value",
    "smooth_labels",
]
