"""``vidseg train tracker``: the Siamese tracker and its polar head, trained jointly (seed 004).

One loss for the three heads (:func:`vidseg.nn.polar.tracker_loss`: score, box IoU, Polar IoU) on
template/search pairs from :mod:`vidseg.train.tracker_samples`. The loop, state file and log are
:mod:`vidseg.train.loop`'s.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from vidseg.nn.losses import tracker_loss
from vidseg.nn.polar import PolarTrackerConfig
from vidseg.train.loop import StepResult, run_training
from vidseg.train.pretraining import PhotoTrainConfig, imagenet_start, starting_model, with_photos
from vidseg.train.vos_trainer import index_loader


@dataclass(frozen=True)
class TrackerTrainConfig(PhotoTrainConfig):
    synthetic_ratio: float = 0.25
    negative_ratio: float = 0.1
    polar_weight: float = 1.0
    model: PolarTrackerConfig = field(default_factory=PolarTrackerConfig)


def train_tracker(config: TrackerTrainConfig) -> Path:
    """Run (or resume) training; returns the weights path once ``config.steps`` are done."""
    torch.manual_seed(config.seed)
    # One thread per core: the data workers take theirs. Two threads on a busy 2-core machine made
    # a step ~10x slower (threads spin-waiting for a core), measured.
    if config.device == "cpu":
        torch.set_num_threads(max(1, (os.cpu_count() or 1) - config.workers))
    model = starting_model("tracker", config.model, config.init)
    groups = imagenet_start(model, model.backbone, config)

    def step(batch: dict) -> StepResult:
        out = model(batch["template"], batch["search"])
        loss = tracker_loss(out, batch["positive"], batch["valid"], batch["box"], batch["rays"], config.polar_weight)
        return StepResult(loss.total, loss.box_iou)

    return run_training(config, model, "tracker", lambda start: _batches(config, start), step, groups)


def _batches(config: TrackerTrainConfig, start: int) -> Iterator[dict]:
    from vidseg.train.clips import FrameStore
    from vidseg.train.tracker_samples import TrackerSampleConfig, TrackerTrainingSet

    store = FrameStore.shared(config.data, config.sequences, scale=config.scale)
    samples = TrackerSampleConfig(model=config.model, synthetic_ratio=config.synthetic_ratio,
                                  negative_ratio=config.negative_ratio, seed=config.seed)
    length = config.steps * config.batch_size
    dataset = TrackerTrainingSet(store, samples, length=length)
    if config.photos is not None:
        from vidseg.train.photos import load_photos

        # A photo is a one-frame sequence: its pairs are the object seen twice, shifted, zoomed and
        # recoloured; composites move it over another photo beside a distractor.
        photos = TrackerTrainingSet(load_photos(config.photos, max_side=2 * config.model.search, parts=True,
                                                 split=config.photo_split),
                                    samples, length)
        dataset = with_photos(photos, dataset, config)
    return index_loader(dataset, config, start)
