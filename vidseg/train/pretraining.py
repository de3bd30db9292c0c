"""What the trainers share to start from ImageNet and learn from photos before (and beside) video.

A network with an EfficientNet-Lite trunk starts from its ImageNet weights; the trunk's lowest
layers stay as ImageNet left them and the rest trains gently (:func:`imagenet_start`). Photos with
masks (:mod:`vidseg.train.photos`) give thousands of objects that 30 clips cannot: the first
``pretrain_steps`` steps draw samples from them only, later steps a share ``photo_ratio``
(:func:`with_photos`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vidseg.errors import InputError
from vidseg.nn.backbones.efficientnet_lite import LiteFeatures
from vidseg.nn.registry import create_model, load_with_meta
from vidseg.train.loop import TrainRunConfig


DEFAULT_PHOTO_RATIO = 0.25


@dataclass(frozen=True)
class PhotoTrainConfig(TrainRunConfig):
    """``photos``: a folder of photos with masks, or None. ``pretrain_steps``: first steps on photo
    samples only; then a share ``photo_ratio`` of them. A Lite trunk trains at ``encoder_lr_scale``
    of the learning rate, its layers up to stride ``freeze_stride`` frozen (0: none)."""

    photos: Path | None = None
    photo_split: str = "all"  # "train": without the photos held out for validation (vidseg.eval.splits)
    pretrain_steps: int = 0
    photo_ratio: float | None = None  # None: DEFAULT_PHOTO_RATIO; given without photos, an error
    encoder_lr_scale: float = 0.1
    freeze_stride: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.pretrain_steps, bool) or not isinstance(self.pretrain_steps, int) \
                or not 0 <= self.pretrain_steps <= self.steps:
            raise InputError(f"--pretrain-steps is {self.pretrain_steps!r}; give a whole number from 0 to --steps")
        if self.pretrain_steps and self.photos is None:
            raise InputError("--pretrain-steps needs --photos: pre-training draws its samples from photos")
        if self.photos is not None:
            from vidseg.train.photos import photo_folders

            photo_folders(self.photos)  # a wrong folder is one line now, not after decoding the videos
        if self.photo_split not in ("all", "train"):
            raise InputError(f"--photo-split is {self.photo_split!r}; give all or train")
        for name, value in (("--photo-ratio", self.photo_share), ("encoder_lr_scale", self.encoder_lr_scale)):
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise InputError(f"{name} is {value!r}; give a number from 0 to 1")
        if self.photo_ratio is not None and self.photos is None:  # silently ignoring it would mislead
            raise InputError("--photo-ratio needs --photos: it is the share of samples drawn from them")

    @property
    def photo_share(self) -> float:
        """The share of photo samples after pre-training: ``photo_ratio``, or the default."""
        return DEFAULT_PHOTO_RATIO if self.photo_ratio is None else self.photo_ratio


def starting_model(arch: str, model_config: object, init: Path | None) -> nn.Module:
    """A new ``arch`` network of ``model_config``; with ``init``, that checkpoint's network (its own
    architecture and weights), to fine-tune. A checkpoint of another network is one line."""
    if init is None:
        return create_model(arch, model_config)
    model, _ = load_with_meta(arch, init)
    return model


def imagenet_start(model: nn.Module, trunk: nn.Module, config: PhotoTrainConfig) -> list[dict] | None:
    """For a Lite ``trunk`` of ``model``: load its ImageNet weights unless the run starts from an
    ``init`` checkpoint (a resumed run then loads its own over them), freeze its lowest layers, and
    return the optimiser's groups (the trunk's body at ``encoder_lr_scale``). None for a trunk learnt
    from scratch."""
    if not isinstance(trunk, LiteFeatures):
        return None
    if config.init is None:
        trunk.load_imagenet_weights()
    trunk.body.freeze_up_to(config.freeze_stride)
    body = set(trunk.body.parameters())
    return [{"params": [p for p in model.parameters() if p in body], "lr_scale": config.encoder_lr_scale},
            {"params": [p for p in model.parameters() if p not in body]}]


def with_photos(photos: torch.utils.data.Dataset, videos: torch.utils.data.Dataset,
                config: PhotoTrainConfig) -> torch.utils.data.Dataset:
    """The samples of a run that learns from photos too (see :class:`MixedSamples`)."""
    return MixedSamples(photos, videos, config.pretrain_steps * config.batch_size, config.photo_share, config.seed)


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
