"""CycleGAN (Zhu et al. 2017): unpaired translation between two image sets A and B.

Two generators (A -> B, B -> A) and two discriminators train with the least-squares GAN loss, plus the
cycle-consistency loss lambda_cycle * |F(G(a)) - a|_1 (and the other way round), and an optional identity
loss; the discriminators also see a history of 50 past translations (generative/image_pool.py). The two sets are batched independently, so no pair is ever seen. The default B is a second style of
the same digits (strokes thickened by a 3x3 dilation, or inverted), which makes the translation measurable:
the ground-truth style transfer of a held-out A image is known, and the judge classifier checks that a
translated digit keeps its class. Generators are fully convolutional: a ConvEncoder, residual blocks, and
the mirror ConvDecoder's layers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from gymforge.generative.config import GenerativeConfig
from gymforge.generative.data import Batches, load_data, read_folder, to_tensor
from gymforge.generative.gan import ConvCritic
from gymforge.generative.image_pool import ImagePool
from gymforge.generative.images import make_grid
from gymforge.generative.learner import GenerativeLearner
from gymforge.generative.metrics import reconstruction_error
from gymforge.networks import ConvDecoder, ConvEncoder, ResidualBlock, init_module, make_optimizer
from torch import nn

from gymforge.engine import distributed
from gymforge.engine.errors import UserError, require
from gymforge.engine.seeding import stream_seed

Style = Literal["none", "thick", "invert"]


@dataclass
class CycleGANConfig(GenerativeConfig):
    """Unpaired translation between --data (set A) and --data-b (set B, restyled by --style-b)."""

    learning_rate: float = 2e-4
    """Adam step size of all four networks (the paper's 2e-4, betas 0.5, 0.999)."""
    data_b: str = "digits"
    """Set B: any value --data accepts."""
    style_b: Style = "thick"
    """Restyle set B: thick (3x3 dilation of the strokes), invert (1 - x), or none."""
    base_channels: int = 32
    """Conv width of generators and discriminators."""
    residual_blocks: int = 2
    """Residual blocks in each generator."""
    cycle_weight: float = 10.0
    """lambda_cycle, the weight of the L1 cycle-consistency loss."""
    identity_weight: float = 0.0
    """Identity loss weight, as a fraction of cycle_weight (the paper uses 0.5 for photo <-> painting)."""
    pool_size: int = 50
    """Past translations each discriminator also sees (the paper's history of 50); 0 shows only the latest."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.base_channels > 0, f"--base-channels must be positive, got {self.base_channels}")
        require(self.residual_blocks >= 0, f"--residual-blocks must be >= 0, got {self.residual_blocks}")
        require(self.cycle_weight >= 0 and self.identity_weight >= 0, "loss weights must be >= 0")
        require(self.pool_size >= 0, f"--pool-size must be >= 0, got {self.pool_size}")


def restyle(images: torch.Tensor, style: str) -> torch.Tensor:
    """(N, C, H, W) in [0, 1] -> the same images in the other style."""
    if style == "thick":
        return F.max_pool2d(images, 3, stride=1, padding=1)
    if style == "invert":
        return 1.0 - images
    return images


def translator(image_shape: tuple[int, int, int], width: int, blocks: int) -> nn.Sequential:
    """Image -> image of the same shape: conv (stride 1), conv (stride 2), residual blocks, mirrored back up."""
    encoder = ConvEncoder(image_shape, (width, 2 * width), kernel_sizes=(3, 4), strides=(1, 2), paddings=(1, 1),
                          batch_norm=True)
    decoder = ConvDecoder.mirror(encoder, latent_dim=1, batch_norm=True, output_activation="sigmoid")
    residual = [ResidualBlock(2 * width) for _ in range(blocks)]
    return nn.Sequential(encoder.layers, *residual, decoder.layers)  # the decoder's latent projection is unused


class CycleGAN(GenerativeLearner):
    """One train_step: a batch of A and an independent batch of B; generators then discriminators."""

    name: ClassVar[str] = "cyclegan"
    score_key: ClassVar[str] = "translation_fid"
    score_mode: ClassVar[str] = "min"
    has_prior: ClassVar[bool] = False

    def __init__(self, config: CycleGANConfig, device: torch.device | None = None) -> None:
        super().__init__(config, device)
        data_b = self.data if config.data_b == config.data else load_data(
            config.data_b, config.image_size, self.image_shape[0], config.holdout_fraction, config.data_root,
            config.download, config.validation_fraction)
        self.data_b_name = data_b.name
        self.paired_truth = config.data_b == config.data  # then restyle(a) is the true translation of a
        self.train_b = restyle(data_b.train, config.style_b).to(self.device)
        self.test_b = restyle(data_b.test, config.style_b)
        self.test_b_labels = data_b.test_labels
        has_validation = data_b.validation is not None
        self.validation_b = restyle(data_b.validation, config.style_b) if has_validation else self.test_b
        self.validation_b_labels = data_b.validation_labels if has_validation else data_b.test_labels
        self.batches_b = Batches(len(self.train_b), config.batch_size * distributed.world_size(),  # torchrun: shared
                                 stream_seed(distributed.shared_seed(config.seed), "batches-b"))  # one share a rank
        width, blocks = config.base_channels, config.residual_blocks
        self.networks = {
            "a_to_b": translator(self.image_shape, width, blocks), "b_to_a": translator(self.image_shape, width, blocks),
            "critic_a": ConvCritic(self.image_shape, 0, width, batch_norm=True),
            "critic_b": ConvCritic(self.image_shape, 0, width, batch_norm=True)}
        for name, network in self.networks.items():
            self.networks[name] = init_module(network, "normal", std=0.02).to(self.device)
        generators = itertools.chain(self.networks["a_to_b"].parameters(), self.networks["b_to_a"].parameters())
        critics = itertools.chain(self.networks["critic_a"].parameters(), self.networks["critic_b"].parameters())
        self.pools = {side: ImagePool(config.pool_size, stream_seed(config.seed, f"image-pool-{side}")) for side in "ab"}
        self.optimizers = {"generators": make_optimizer("adam", generators, lr=config.learning_rate, betas=(0.5, 0.999)),
                           "critics": make_optimizer("adam", critics, lr=config.learning_rate, betas=(0.5, 0.999))}

    def train_step(self, limit: int | None = None) -> dict[str, float]:
        config, nets = self.config, self.networks
        real_a, _ = self.next_batch()  # (B, C, H, W) in [0, 1]
        real_b = self.train_b[distributed.shard(self.batches_b.next_indices()).to(self.device)]
        fake_b, fake_a = nets["a_to_b"](real_a), nets["b_to_a"](real_b)

        def score(critic: str, images: torch.Tensor) -> torch.Tensor:
            return nets[critic](images * 2.0 - 1.0)  # (B,)

        adversarial = (score("critic_b", fake_b) - 1).pow(2).mean() + (score("critic_a", fake_a) - 1).pow(2).mean()
        cycle = (nets["b_to_a"](fake_b) - real_a).abs().mean() + (nets["a_to_b"](fake_a) - real_b).abs().mean()
        loss = adversarial + config.cycle_weight * cycle
        if config.identity_weight > 0:
            identity = (nets["a_to_b"](real_b) - real_b).abs().mean() + (nets["b_to_a"](real_a) - real_a).abs().mean()
            loss = loss + config.identity_weight * config.cycle_weight * identity
        self.optimizers["generators"].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers["generators"].step()

        shown_a, shown_b = self.pools["a"].query(fake_a), self.pools["b"].query(fake_b)  # detached, some older
        critic_loss = 0.5 * ((score("critic_a", real_a) - 1).pow(2).mean() + score("critic_a", shown_a).pow(2).mean()
                             + (score("critic_b", real_b) - 1).pow(2).mean() + score("critic_b", shown_b).pow(2).mean())
        self.optimizers["critics"].zero_grad(set_to_none=True)
        critic_loss.backward()
        self.optimizers["critics"].step()
        return {"train/loss_generators": loss.item(), "train/loss_adversarial": adversarial.item(),
                "train/loss_cycle": cycle.item(), "train/loss_critics": critic_loss.item()}

    # ---- translation and evaluation -----------------------------------------------------------------
    @property
    def learned_features(self) -> bool:
        """Translations are judged in features learned without labels from both training sets, labelled or not."""
        return True

    def feature_data(self) -> tuple[str, torch.Tensor, torch.Tensor]:
        return (f"{self.data.name}+{self.data_b_name}-{self.config.style_b}",
                torch.cat([self.data.train, self.train_b.cpu()]), torch.cat([self.data.test, self.test_b]))

    def translate_images(self, images: torch.Tensor, direction: str = "a_to_b") -> torch.Tensor:
        with self.evaluating():
            return torch.cat([self.networks[direction](chunk.to(self.device)) for chunk in images.split(500)])

    def reconstruct(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """A -> B: held-out A images beside their translations in `sample --reconstruct` and TensorBoard."""
        return self.translate_images(images)

    def sample_grid(self, n: int = 64, seed: int = 0, label: int | None = None, interpolate: bool = False,
                    reconstruct: bool = False) -> np.ndarray:
        """Held-out images of A beside their translations into B's style."""
        if label is not None or interpolate:
            raise UserError("cyclegan translates images: --label and --interpolate do not apply; use --translate")
        return super().sample_grid(n, seed, reconstruct=True)

    def translate(self, folder: str | Path, n: int = 64) -> np.ndarray:
        """The first n images of a folder (set A's kind) beside their translations into set B."""
        images, _, _ = read_folder(Path(folder))
        inputs = to_tensor(images[:n], self.config.image_size, self.image_shape[0])
        pairs = torch.stack([inputs, self.translate_images(inputs).cpu()], dim=1).flatten(0, 1)
        return make_grid(pairs, columns=2 * max(1, round((len(inputs) / 2) ** 0.5)))

    def evaluate(self, split: str = "validation") -> dict[str, float]:
        """On the validation split (choosing best.pt) or the held-out test split: translation_fid, the mean FID of
        A -> B translations against real B and of B -> A against real A in the learned features (a pair of
        identity maps scores the distance between the sets, not 0), with KID and the real-vs-real floors; the
        cycle error; with a known true translation, the error against it."""
        test_a, _ = self.split_images(split)
        test_b, labels_b = ((self.validation_b, self.validation_b_labels) if split == "validation"
                            else (self.test_b, self.test_b_labels))
        a_to_b, b_to_a = self.translate_images(test_a).cpu(), self.translate_images(test_b, "b_to_a").cpu()
        figures = {"cycle_error": 0.5 * (reconstruction_error(self.translate_images(a_to_b, "b_to_a").cpu(), test_a)
                                         + reconstruction_error(self.translate_images(b_to_a).cpu(), test_b))}
        if self.paired_truth:  # the true translation is known: compare with it, both ways
            figures["translation_error"] = 0.5 * (reconstruction_error(a_to_b, restyle(test_a, self.config.style_b))
                                                  + reconstruction_error(b_to_a, test_a))
            figures["identity_baseline_error"] = reconstruction_error(test_a, test_b)
        to_b = self.learned_figures(a_to_b, test_b, self.train_b, (split, "a_to_b"))
        to_a = self.learned_figures(b_to_a, test_a, self.data.train, (split, "b_to_a"))
        figures.update(fid_a_to_b=to_b["fid_learned"], fid_b_to_a=to_a["fid_learned"])
        for name in ("fid", "kid"):
            figures[f"translation_{name}"] = 0.5 * (to_b[f"{name}_learned"] + to_a[f"{name}_learned"])
            floors = to_b[f"{name}_learned_floor"], to_a[f"{name}_learned_floor"]
            figures[f"translation_{name}_floor"] = 0.5 * sum(floors)
        classifier = self.classifier
        if classifier is not None and labels_b is not None:  # B -> A keeps the digit's class?
            _, probabilities = classifier.predict(b_to_a)
            figures["translated_label_accuracy"] = float((probabilities.argmax(1) == labels_b).float().mean())
        return figures

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), "batches_b": self.batches_b.state_dict(),
                "pools": {name: pool.state_dict() for name, pool in self.pools.items()}}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        super().load_extra_state(state)
        self.batches_b.load_state_dict(state["batches_b"])
        for name, pool in self.pools.items():
            pool.load_state_dict(state["pools"][name])
