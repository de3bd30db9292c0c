"""Interactive segmentation network (seed 003): a box or a click, then correction clicks.

The network is cut in two. The first part (the backbone's lower layers) runs once per image, on a
square crop around the selection, and its features are cached. The second part (upper layers)
takes the middle (stride-8) features together with the correction maps (closeness to the positive
clicks, to the negative clicks, the previous mask, and the selection's cues: its box and how much
each colour is the box's, see ``engine/interactive/selection_cues.py``) and predicts the mask; a correction reruns
only this part. The maps also join the decoder at strides 4 and 2, so a click can move a boundary
by a few pixels, not only by a stride-8 cell.

A region branch on the middle features (the seed's region-proposal branch) gives, at every
stride-8 cell, whether it lies on the object and the distances from it to the object box's four
sides (FCOS-style); read at a click, it proposes the box of the object under it.

Shapes: crops (B, 3, S, S) RGB in [0, 1], S a multiple of 16; maps (B, 5, S, S) in [0, 1];
logits (B, 1, S/2, S/2); region (B, 5, S/8, S/8): objectness logit and (left, top, right, bottom)
distances as shares of the crop side.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn
from torch.nn import functional as F

from vidseg.nn.backbones.efficientnet_lite import LiteFeatures
from vidseg.nn.backbones.names import check_encoder
from vidseg.nn.backbones.separable import Backbone
from vidseg.nn.blocks import ExpandedResidual, SeparableBlock, conv_bn_relu, upsample_to
from vidseg.nn.stored_config import StoredConfig
from vidseg.ops.crops import check_stretch

MAP_CHANNELS = 5  # positive-click closeness, negative-click closeness, previous mask, box, box colours
MAX_CLICK_DISK = 32  # the largest radius, in crop pixels, of clicks drawn as disks (InteractiveNetConfig.click_disk)
CLICK_CAP_RANGE = (4.0, 256.0)  # in crop pixels, the distances a closeness map may fade over (click_cap)


@dataclass(frozen=True)
class InteractiveNetConfig(StoredConfig):
    """widths: the separable backbone's channels at strides 2, 4, 8, 16; with an EfficientNet-Lite
    ``encoder`` ("lite0", "lite1", "lite2", ImageNet-initialised for training) only widths[2] is
    used, the stride-8 width after stride 16 is fused into it. upper_width: channels of the upper
    layers at stride 8; decoder_width: at stride 4 (half of it at stride 2). crop: the side S of the
    square crop the network sees. focus: trained on focus windows too (a part of the outline with a
    coarse previous mask), so a click reruns it on the window around the click's change.
    click_cues: trained with clicks seeding the colour cue (``selection_cues.colour_likelihood``),
    so it is run so. stretch: trained on selection windows up to this many times longer one way than
    the other, stretched to the square crop (``CropWindow.around``), so it is run so; 1: squares.
    upper_expand: when > 0, the upper part also has inverted residual blocks (``ExpandedResidual``,
    this expansion), two at stride 8 and one at stride 4, for more capacity per click; 0: none.
    click_disk: trained with clicks as disks of this radius in crop pixels (RITM's encoding), so
    it is run so; 0: as closeness maps (``clicks.distance_maps``) that fade over ``click_cap``
    crop pixels, so a click also says how far from it the object may reach."""

    widths: tuple[int, int, int, int] = (16, 32, 64, 96)
    upper_width: int = 64
    decoder_width: int = 32
    crop: int = 224
    encoder: str = "separable"
    focus: bool = False
    click_cues: bool = False
    stretch: float = 1.0
    upper_expand: int = 0
    click_disk: float = 0.0
    click_cap: float = 40.0  # clicks.DISTANCE_CAP, which nn cannot import (a test holds them equal)

    def __post_init__(self) -> None:
        if self.crop % 16 or self.crop < 64:
            raise ValueError(f"crop is {self.crop}; use a multiple of 16 of at least 64")
        if isinstance(self.upper_expand, bool) or not isinstance(self.upper_expand, int) \
                or not 0 <= self.upper_expand <= 8:
            raise ValueError(f"upper_expand is {self.upper_expand!r}; use a whole number from 0 to 8")
        check_stretch(self.stretch)
        check_encoder(self.encoder)
        if not valid_click_disk(self.click_disk):
            raise ValueError(f"click_disk is {self.click_disk!r}; use 0 (closeness maps) "
                             f"or a radius from 1 to {MAX_CLICK_DISK}")
        if not valid_click_cap(self.click_cap):
            raise ValueError(f"click_cap is {self.click_cap!r}; use {CLICK_CAP_RANGE[0]:g} to "
                             f"{CLICK_CAP_RANGE[1]:g} crop pixels")


@dataclass
class LowerFeatures:
    """The first part's output, cached per image: f2, f4, f8 (B, widths[i], S/s, S/s) and the
    region branch's map (B, 5, S/8, S/8)."""

    f2: torch.Tensor
    f4: torch.Tensor
    f8: torch.Tensor
    region: torch.Tensor


class RegionBranch(nn.Module):
    """Middle features -> objectness logit and four box-side distances per stride-8 cell."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(SeparableBlock(width, width, dilation=2), SeparableBlock(width, width, dilation=4))
        self.out = nn.Conv2d(width, 5, 1)

    def forward(self, f8: torch.Tensor) -> torch.Tensor:
        raw = self.out(self.body(f8))
        return torch.cat([raw[:, :1], F.softplus(raw[:, 1:])], dim=1)


class UpperPart(nn.Module):
    """Middle features + correction maps -> mask logits at stride 2."""

    def __init__(self, config: InteractiveNetConfig, widths: tuple[int, int, int]) -> None:
        """widths: the backbone's channels at strides 2, 4, 8."""
        super().__init__()
        w2, w4, w8 = widths
        u, d = config.upper_width, config.decoder_width
        self.inject = conv_bn_relu(w8 + MAP_CHANNELS, u, kernel=1)
        self.body = nn.Sequential(SeparableBlock(u, u), SeparableBlock(u, u, dilation=2),
                                  SeparableBlock(u, u, dilation=4), SeparableBlock(u, u))
        self.fuse4 = nn.Sequential(conv_bn_relu(u + w4 + MAP_CHANNELS, d, kernel=1), SeparableBlock(d, d))
        self.fuse2 = nn.Sequential(conv_bn_relu(d + w2 + MAP_CHANNELS, d // 2, kernel=1),
                                   SeparableBlock(d // 2, d // 2))
        self.head = nn.Conv2d(d // 2, 1, 3, padding=1)
        # Capacity where it is cheap: at stride 2 the same block costs as much as the whole part.
        e = config.upper_expand
        self.extra8 = nn.Sequential(ExpandedResidual(u, e), ExpandedResidual(u, e)) if e else nn.Identity()
        self.extra4 = ExpandedResidual(d, e) if e else nn.Identity()

    def forward(self, lower: LowerFeatures, maps: torch.Tensor) -> torch.Tensor:
        x = self.body(self.inject(torch.cat([lower.f8, _pool_to(maps, lower.f8)], dim=1)))
        x = self.fuse4(torch.cat([upsample_to(self.extra8(x), lower.f4), lower.f4, _pool_to(maps, lower.f4)], dim=1))
        x = self.fuse2(torch.cat([upsample_to(self.extra4(x), lower.f2), lower.f2, _pool_to(maps, lower.f2)], dim=1))
        return self.head(x)


class InteractiveNet(nn.Module):
    """``lower(crops)`` once per image; ``upper(lower, maps)`` once per click."""

    def __init__(self, config: InteractiveNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or InteractiveNetConfig()
        c = self.config
        self.backbone = Backbone(c.widths) if c.encoder == "separable" else LiteFeatures(c.encoder, c.widths[2])
        widths = c.widths[:3] if c.encoder == "separable" else self.backbone.widths
        self.region = RegionBranch(widths[2])
        self.upper_part = UpperPart(c, widths)

    def lower(self, crops: torch.Tensor) -> LowerFeatures:
        """crops: (B, 3, S, S) RGB in [0, 1] -> cached features and the region map."""
        f2, f4, f8 = self.backbone.features(crops)
        return LowerFeatures(f2, f4, f8, self.region(f8))

    def upper(self, lower: LowerFeatures, maps: torch.Tensor) -> torch.Tensor:
        """maps: (B, 5, S, S) -> logits (B, 1, S/2, S/2)."""
        if maps.ndim != 4 or maps.shape[1] != MAP_CHANNELS:
            raise ValueError(f"maps must be (B, {MAP_CHANNELS}, S, S), got {tuple(maps.shape)}")
        return self.upper_part(lower, maps)

    def forward(self, crops: torch.Tensor, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both parts: (logits (B, 1, S/2, S/2), region (B, 5, S/8, S/8))."""
        lower = self.lower(crops)
        return self.upper(lower, maps), lower.region

    def load_pretrained_encoder(self) -> None:
        """Start the backbone from its ImageNet weights (training only; needs the ``train`` extra)."""
        if not isinstance(self.backbone, LiteFeatures):
            raise ValueError("only an EfficientNet-Lite encoder has pretrained weights")
        self.backbone.load_imagenet_weights()


def valid_click_disk(radius: object) -> bool:
    """Whether ``radius`` is a click disk's radius the network takes: 0 (closeness maps) or 1 to
    ``MAX_CLICK_DISK`` crop pixels."""
    return not isinstance(radius, bool) and isinstance(radius, (int, float)) \
        and (radius == 0 or 1 <= radius <= MAX_CLICK_DISK)


def valid_click_cap(cap: object) -> bool:
    """Whether ``cap`` is a distance, in crop pixels, the closeness maps may fade over
    (``CLICK_CAP_RANGE``)."""
    return not isinstance(cap, bool) and isinstance(cap, (int, float)) \
        and CLICK_CAP_RANGE[0] <= cap <= CLICK_CAP_RANGE[1]


def grown_upper(net: InteractiveNet, expand: int) -> InteractiveNet:
    """``net`` with ``ExpandedResidual`` blocks of this expansion added to its upper part (a new
    network; ``net`` must have none): its weights as they are and the new blocks the identity, so it
    answers as ``net`` did until fine-tuning trains them."""
    if net.config.upper_expand:
        raise ValueError(f"the network already has upper blocks (upper_expand {net.config.upper_expand})")
    grown = InteractiveNet(replace(net.config, upper_expand=expand))
    missing, unexpected = grown.load_state_dict(net.state_dict(), strict=False)
    if unexpected or any(".extra" not in key for key in missing):
        raise ValueError(f"cannot grow this network: missing {missing}, unexpected {unexpected}")
    return grown.to(next(net.parameters()).device)


def box_at(region: torch.Tensor, x: float, y: float, crop: int) -> tuple[float, float, float, float]:
    """The box the region branch proposes for the object under crop pixel (x, y).

    region: (5, S/8, S/8) of one image. Distances are averaged over the 3x3 cells around the point,
    weighted by objectness, because one cell's guess is noisy. Returns (x0, y0, x1, y1) in crop pixels.
    """
    _, h, w = region.shape
    stride = crop / w
    cx, cy = min(int(x / stride), w - 1), min(int(y / stride), h - 1)
    ys, xs = slice(max(cy - 1, 0), cy + 2), slice(max(cx - 1, 0), cx + 2)
    weight = torch.sigmoid(region[0, ys, xs]) + 1e-3
    gy, gx = torch.meshgrid(torch.arange(h, dtype=region.dtype, device=region.device)[ys],
                            torch.arange(w, dtype=region.dtype, device=region.device)[xs],
                            indexing="ij")
    centres_x, centres_y = (gx + 0.5) * stride, (gy + 0.5) * stride
    sides = [centres_x - region[1, ys, xs] * crop, centres_y - region[2, ys, xs] * crop,
             centres_x + region[3, ys, xs] * crop, centres_y + region[4, ys, xs] * crop]
    return tuple(float((s * weight).sum() / weight.sum()) for s in sides)


def region_targets(masks: torch.Tensor, cells: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets of the region branch from (B, 1, S, S) masks in {0, 1}.

    Returns objectness (B, 1, c, c) (share of each cell on the object) and distances (B, 4, c, c)
    from each cell centre to the sides of the object's box, as shares of S (zero where no object).
    """
    b, _, s, _ = masks.shape
    objectness = F.adaptive_avg_pool2d(masks, cells)
    centres = (torch.arange(cells, dtype=masks.dtype, device=masks.device) + 0.5) * (s / cells)
    dist = torch.zeros(b, 4, cells, cells, dtype=masks.dtype, device=masks.device)
    for i in range(b):
        ys, xs = torch.nonzero(masks[i, 0] > 0.5, as_tuple=True)
        if len(xs) == 0:
            continue
        x0, y0, x1, y1 = xs.min().float(), ys.min().float(), xs.max().float() + 1, ys.max().float() + 1
        dist[i, 0] = (centres[None, :] - x0).expand(cells, cells)
        dist[i, 1] = (centres[:, None] - y0).expand(cells, cells)
        dist[i, 2] = (x1 - centres[None, :]).expand(cells, cells)
        dist[i, 3] = (y1 - centres[:, None]).expand(cells, cells)
    return objectness, dist / s



def _pool_to(maps: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Area-resize maps to ``like``'s spatial size."""
    return F.adaptive_avg_pool2d(maps, like.shape[-2:])
