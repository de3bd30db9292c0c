"""``vidseg train vos``: train the propagation network on DAVIS-layout data, resumably.

The loop, its state file and its log are :mod:`vidseg.train.loop`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from vidseg.nn.losses import batch_iou, segmentation_loss
from vidseg.nn.propagation import PropagationNetConfig
from vidseg.train.loop import StepResult, TrainRunConfig, learning_rate, run_training
from vidseg.train.pretraining import PhotoTrainConfig, imagenet_start, starting_model, with_photos

__all__ = ["VosTrainConfig", "learning_rate", "train_vos"]


@dataclass(frozen=True)
class VosTrainConfig(PhotoTrainConfig):
    crop: tuple[int, int] = (192, 320)
    synthetic_ratio: float = 0.3
    model: PropagationNetConfig = field(default_factory=PropagationNetConfig)


def train_vos(config: VosTrainConfig) -> Path:
    """Run (or resume) training; returns the weights path once ``config.steps`` are done."""
    torch.manual_seed(config.seed)
    model = starting_model("vos", config.model, config.init)
    groups = imagenet_start(model, model.encoder, config)

    def step(batch: dict) -> StepResult:
        pred = model(batch["frames"], batch["masks"][:, 0], batch["prev_mask"], batch["prior"])
        target = batch["masks"][:, 2]
        loss = segmentation_loss(pred.logits, target) + 0.5 * segmentation_loss(pred.pre_logits, target)
        return StepResult(loss, batch_iou(pred.logits, target))

    return run_training(config, model, "vos", lambda start: _batches(config, start), step, groups)


def _batches(config: VosTrainConfig, start: int) -> Iterator[dict]:
    from vidseg.train.datasets import FrameStore, VosSampleConfig, VosTrainingSet

    store = FrameStore.shared(config.data, config.sequences, scale=config.scale)
    length = config.steps * config.batch_size
    samples = VosSampleConfig(size=config.crop, synthetic_ratio=config.synthetic_ratio, seed=config.seed)
    dataset: torch.utils.data.Dataset = VosTrainingSet(store, samples, length=length)
    if config.photos is not None:
        from vidseg.train.photos import load_photos

        # Photos make mostly synthetic clips: one photo alone is a clip with no motion.
        photo_samples = VosSampleConfig(size=config.crop, synthetic_ratio=0.8, seed=config.seed)
        dataset = with_photos(VosTrainingSet(load_photos(config.photos, split=config.photo_split), photo_samples, length=length), dataset, config)
    return index_loader(dataset, config, start)



def index_loader(dataset: torch.utils.data.Dataset, config: TrainRunConfig, start: int) -> Iterator[dict]:
    """Batches of ``dataset`` from step ``start`` on, in index order (samples depend on the index only);
    when distributed, this rank's share of each step's batch."""
    from vidseg.train.distributed import ranks, step_indices

    where = ranks()
    indices = step_indices(start, config.steps, config.batch_size, where)
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.batch_size // where.world, sampler=indices,
                                         num_workers=config.workers, persistent_workers=config.workers > 0)
    return iter(loader)
