"""Siamese tracker with a polar-contour head (seed 004; the tracker part after Ocean).

One backbone (:class:`~vidseg.nn.backbones.separable.Backbone`) runs on the template crop (the object with
context, T x T) and on the search crop (S x S, around where the object was). Both stride-8 maps are
adjusted by a 1x1 convolution; the template's central k x k cells become per-channel kernels that
are correlated depth-wise with the search map (the feature combination), giving one (C, M, M) map,
M = S/8 - k + 1. Three small heads read it at every location (anchor-free, as Ocean and FCOS):

- score: is this location the object's centre (a logit);
- box: the distances from the location to the object box's four sides (left, top, right, bottom);
- polar: the lengths of ``rays`` rays from the location at angles 2*pi*i/n (x right, y down), the
  object's contour in polar coordinates (PolarMask); joined, their end points are the outline.

Location (i, j) of the map sits at search pixel (x, y) = (8 j + c, 8 i + c), c = 8 (k - 1) / 2 + 3.5
(:func:`location_grid`); for k = 8 the map's centre is the crop's centre. Distances are in search
crop pixels. Losses: balanced BCE for the score, IoU loss for the box, and the Polar IoU loss
``log(sum max(d, d*) / sum min(d, d*))`` for the rays, trained jointly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vidseg.nn.backbones.efficientnet_lite import LiteFeatures
from vidseg.nn.backbones.names import check_encoder
from vidseg.nn.backbones.separable import Backbone
from vidseg.nn.blocks import SeparableBlock
from vidseg.nn.stored_config import StoredConfig

FEATURE_STRIDE = 8  # pixels of the search crop per location of the score map
MIN_RAYS = 3
# Outlines are resampled from the network's few rays (36 shipped), so one point per degree already
# draws every bend they carry; far more only costs memory (1e8 took gigabytes).
MAX_RAYS = 360


@dataclass(frozen=True)
class PolarTrackerConfig(StoredConfig):
    """widths: the separable backbone's channels at strides 2, 4, 8, 16; with an EfficientNet-Lite
    ``encoder`` ("lite0", "lite1", "lite2", ImageNet-initialised for training) only widths[2] is
    used, the stride-8 width after stride 16 is fused into it. width: channels of the correlation and the
    heads. template: side T of the template crop; search: default side S of the search crop (any
    multiple of 16 with S/8 >= kernel works at inference). kernel: template cells correlated.
    rays: n, the polar head's outputs. context: the template crop's side is
    ``context_side(w, h, context)`` of the object's box (:func:`context_side`)."""

    widths: tuple[int, int, int, int] = (16, 32, 64, 128)
    width: int = 64
    template: int = 96
    search: int = 192
    kernel: int = 8
    rays: int = 36
    context: float = 0.5
    encoder: str = "separable"

    def __post_init__(self) -> None:
        check_encoder(self.encoder)
        if self.rays < MIN_RAYS:
            raise ValueError(f"rays is {self.rays}; a polygon needs at least {MIN_RAYS} rays")
        for name in ("template", "search"):
            if getattr(self, name) % 16:
                raise ValueError(f"{name} is {getattr(self, name)}; use a multiple of 16")
        if self.template // FEATURE_STRIDE < self.kernel or self.search // FEATURE_STRIDE < self.kernel:
            raise ValueError(f"kernel {self.kernel} is larger than the template or search map")


@dataclass
class TrackerOutput:
    """Per location of the (M, M) map: ``score`` (B, 1, M, M) logits; ``box`` (B, 4, M, M) distances
    to the left, top, right and bottom sides; ``rays`` (B, n, M, M) ray lengths; in search pixels."""

    score: torch.Tensor
    box: torch.Tensor
    rays: torch.Tensor


def context_side(w: float, h: float, context: float) -> float:
    """Side of the square the template crop covers for a (w, h) box: sqrt((w + p)(h + p)),
    p = 2 * context * (w + h) / 2, SiamFC's context (context 0.5: an object about half the crop)."""
    p = context * (w + h)
    return math.sqrt((w + p) * (h + p))


def xcorr_depthwise(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) correlated channel by channel with (B, C, k, k) -> (B, C, H-k+1, W-k+1)."""
    b, c, h, w = search.shape
    k = kernel.shape[-1]
    if b == 1:  # tracking: one crop; the channel count stays static, which an exported graph needs
        return F.conv2d(search, kernel.reshape(c, 1, k, k), groups=c) / k ** 2
    out = F.conv2d(search.reshape(1, b * c, h, w), kernel.reshape(b * c, 1, *kernel.shape[-2:]), groups=b * c)
    return out.reshape(b, c, out.shape[-2], out.shape[-1]) / kernel.shape[-1] ** 2


def location_grid(map_size: int, kernel: int) -> torch.Tensor:
    """(M,) search-pixel coordinate of each location along one axis (the same for x and y)."""
    offset = FEATURE_STRIDE * (kernel - 1) / 2 + (FEATURE_STRIDE - 1) / 2
    return torch.arange(map_size, dtype=torch.float32) * FEATURE_STRIDE + offset


def ray_angles(rays: int) -> np.ndarray:
    """(n,) angles 2*pi*i/n of the rays, radians."""
    return 2 * np.pi * np.arange(rays) / rays


class _Head(nn.Module):
    def __init__(self, width: int, out: int) -> None:
        super().__init__()
        self.body = nn.Sequential(SeparableBlock(width, width), SeparableBlock(width, width))
        self.out = nn.Conv2d(width, out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


class PolarTrackerNet(nn.Module):
    """Template (B, 3, T, T) and search (B, 3, S, S) RGB crops in [0, 1] -> :class:`TrackerOutput`.

    ``template_kernel`` runs once per template; ``track`` once per frame, so a tracker pays for the
    search branch only.
    """

    def __init__(self, config: PolarTrackerConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or PolarTrackerConfig()
        w8 = config.widths[2]
        self.backbone = Backbone(config.widths) if config.encoder == "separable" else \
            LiteFeatures(config.encoder, w8)
        self.adjust_template = nn.Sequential(nn.Conv2d(w8, config.width, 1, bias=False), nn.BatchNorm2d(config.width))
        self.adjust_search = nn.Sequential(nn.Conv2d(w8, config.width, 1, bias=False), nn.BatchNorm2d(config.width))
        self.fuse = nn.Sequential(nn.Conv2d(config.width, config.width, 1, bias=False),
                                  nn.BatchNorm2d(config.width), nn.ReLU(inplace=True))
        self.score_head = _Head(config.width, 1)
        self.box_head = _Head(config.width, 4)
        self.polar_head = _Head(config.width, config.rays)  # the polar head: last layer has n channels
        # Distances start near a typical object's half-size (~32 px) rather than at 0.
        self.distance_scale = float(FEATURE_STRIDE * 4)

    def template_kernel(self, template: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, T) -> (B, width, k, k): the template's central cells, the correlation kernel."""
        f8 = self.adjust_template(self.backbone.features(template)[2])
        k, size = self.config.kernel, f8.shape[-1]
        start = (size - k) // 2
        return f8[:, :, start:start + k, start:start + k]

    def track(self, kernel: torch.Tensor, search: torch.Tensor) -> TrackerOutput:
        """``kernel`` (B, width, k, k) from :meth:`template_kernel`, search (B, 3, S, S) -> outputs on
        the (M, M) map, M = S/8 - k + 1."""
        f8 = self.adjust_search(self.backbone.features(search)[2])
        fused = self.fuse(xcorr_depthwise(f8, kernel))
        box = F.softplus(self.box_head(fused)) * self.distance_scale
        rays = F.softplus(self.polar_head(fused)) * self.distance_scale
        return TrackerOutput(self.score_head(fused), box, rays)

    def forward(self, template: torch.Tensor, search: torch.Tensor) -> TrackerOutput:
        return self.track(self.template_kernel(template), search)

    def load_pretrained_encoder(self) -> None:
        """Start the backbone from its ImageNet weights (training only; needs the ``train`` extra)."""
        if not isinstance(self.backbone, LiteFeatures):
            raise ValueError("only an EfficientNet-Lite encoder has pretrained weights")
        self.backbone.load_imagenet_weights()
