"""``vidseg train vos``: train the propagation network on DAVIS-layout data, resumably.

The loop, its state file and its log are :mod:`vidseg.train.loop`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from vidseg.errors import InputError
from vidseg.nn.losses import batch_iou, segmentation_loss
from vidseg.nn.propagation import LiteEncoder, PropagationNetConfig
from vidseg.nn.registry import create_model
from vidseg.train.loop import StepResult, TrainRunConfig, learning_rate, run_training

__all__ = ["VosTrainConfig", "learning_rate", "train_vos"]


@dataclass(frozen=True)
class VosTrainConfig(TrainRunConfig):
    """``photos``: a folder of photos with masks (:mod:`vidseg.train.photos`) or None. The first
    ``pretrain_steps`` steps draw synthetic clips from the photos only; after them a share
    ``photo_ratio`` of samples still comes from the photos, the rest from the videos. A Lite
    encoder starts from ImageNet, trains at ``encoder_lr_scale`` of the learning rate, and its
    layers up to stride ``freeze_stride`` stay as ImageNet left them (0: none)."""

    crop: tuple[int, int] = (192, 320)
    synthetic_ratio: float = 0.3
    model: PropagationNetConfig = field(default_factory=PropagationNetConfig)
    photos: Path | None = None
    pretrain_steps: int = 0
    photo_ratio: float = 0.25
    encoder_lr_scale: float = 0.1
    freeze_stride: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.pretrain_steps, bool) or not isinstance(self.pretrain_steps, int) \
                or not 0 <= self.pretrain_steps <= self.steps:
            raise InputError(f"--pretrain-steps is {self.pretrain_steps!r}; give a whole number from 0 to --steps")
        if self.pretrain_steps and self.photos is None:
            raise InputError("--pretrain-steps needs --photos: pre-training draws its clips from photos")
        if self.photos is not None:
            from vidseg.train.photos import photo_folders

            photo_folders(self.photos)  # a wrong folder is one line now, not after decoding the videos
        for name in ("photo_ratio", "encoder_lr_scale"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise InputError(f"{name} is {value!r}; give a number from 0 to 1")


def train_vos(config: VosTrainConfig) -> Path:
    """Run (or resume) training; returns the weights path once ``config.steps`` are done."""
    torch.manual_seed(config.seed)
    model = create_model("vos", config.model)
    groups = None
    if isinstance(model.encoder, LiteEncoder):
        model.load_pretrained_encoder()  # a resumed run then loads its own weights over these
        model.encoder.body.freeze_up_to(config.freeze_stride)
        body = set(model.encoder.body.parameters())
        groups = [{"params": [p for p in model.parameters() if p in body], "lr_scale": config.encoder_lr_scale},
                  {"params": [p for p in model.parameters() if p not in body]}]

    def step(batch: dict) -> StepResult:
        pred = model(batch["frames"], batch["masks"][:, 0], batch["prev_mask"], batch["prior"])
        target = batch["masks"][:, 2]
        loss = segmentation_loss(pred.logits, target) + 0.5 * segmentation_loss(pred.pre_logits, target)
        return StepResult(loss, batch_iou(pred.logits, target))

    return run_training(config, model, "vos", lambda start: _batches(config, start), step, groups)


def _batches(config: VosTrainConfig, start: int) -> Iterator[dict]:
    from vidseg.train.datasets import FrameStore, VosSampleConfig, VosTrainingSet

    store = FrameStore(config.data, config.sequences, scale=config.scale,
                       cache_dir=config.out.parent / ".cache")
    length = config.steps * config.batch_size
    samples = VosSampleConfig(size=config.crop, synthetic_ratio=config.synthetic_ratio, seed=config.seed)
    dataset: torch.utils.data.Dataset = VosTrainingSet(store, samples, length=length)
    if config.photos is not None:
        from vidseg.train.photos import load_photos

        # Photos make mostly synthetic clips: one photo alone is a clip with no motion.
        photo_samples = VosSampleConfig(size=config.crop, synthetic_ratio=0.8, seed=config.seed)
        photos = VosTrainingSet(load_photos(config.photos), photo_samples, length=length)
        dataset = MixedSamples(photos, dataset, config.pretrain_steps * config.batch_size,
                               config.photo_ratio, config.seed)
    return index_loader(dataset, config, start)


class MixedSamples(torch.utils.data.Dataset):
    """Item i from ``first`` while i < ``first_only``, then from ``first`` with probability ``ratio``
    and from ``second`` otherwise; the choice is a pure function of (seed, i), so resuming is exact."""

    def __init__(self, first: torch.utils.data.Dataset, second: torch.utils.data.Dataset, first_only: int,
                 ratio: float, seed: int) -> None:
        self.first, self.second, self.first_only, self.ratio, self.seed = first, second, first_only, ratio, seed

    def __len__(self) -> int:
        return len(self.second)

    def __getitem__(self, index: int) -> dict:
        if index < self.first_only or np.random.default_rng((self.seed, index, 1)).random() < self.ratio:
            return self.first[index]
        return self.second[index]


def index_loader(dataset: torch.utils.data.Dataset, config: TrainRunConfig, start: int) -> Iterator[dict]:
    """Batches of ``dataset`` from step ``start`` on, in index order (samples depend on the index only);
    when distributed, this rank's share of each step's batch."""
    from vidseg.train.distributed import ranks, step_indices

    where = ranks()
    indices = step_indices(start, config.steps, config.batch_size, where)
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.batch_size // where.world, sampler=indices,
                                         num_workers=config.workers, persistent_workers=config.workers > 0)
    return iter(loader)
