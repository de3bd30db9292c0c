"""Tiles over a first mask's outline, each seen magnified by one focus pass.

The first mask comes from the whole selection at the crop's resolution (a 224-px crop of an
object 400 px across halves its detail). The focus pass sees a window at up to twice that, so
running it on overlapping windows along the outline before the first click gives the mask the
focus pass's detail everywhere, not only where clicks later land.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vidseg.errors import InputError
from vidseg.ops.crops import CropWindow, cut

_PROBE = 32  # a window's mask is looked at this many pixels a side to tell whether it holds outline


@dataclass(frozen=True)
class TileConfig:
    """share: a tile's side as a share of the box's longer side (no smaller than the focus pass
    allows); overlap: the share of a tile its neighbour covers too; enabled False: the first mask
    as the whole-selection pass draws it."""

    enabled: bool = True
    share: float = 0.5
    overlap: float = 0.25

    def __post_init__(self) -> None:
        if not (0 < self.share <= 1 and 0 <= self.overlap < 1):
            raise InputError(f"tiles need 0 < share <= 1 and 0 <= overlap < 1, got {self}")


def outline_tiles(mask: np.ndarray, box: tuple[float, float, float, float], smallest: float,
                  config: TileConfig) -> list[CropWindow]:
    """Square windows covering ``box`` (x0, y0, x1, y1, image pixels) and a quarter of a window
    beyond it, each of side ``config.share`` of the box's longer side but at least ``smallest``,
    overlapping by ``config.overlap``; only those that hold both labels of ``mask`` (H, W bool),
    i.e. a part of its outline. Row-major."""
    x0, y0, x1, y1 = box
    side = max(config.share * max(x1 - x0, y1 - y0), smallest)
    stride = side * (1 - config.overlap)
    # A tight box's edges are the outline: the outer windows reach past them to see both sides.
    margin = side / 4
    values = mask.astype(np.float32)
    tiles = []
    for cy in _centres(y0 - margin, y1 + margin, side, stride):
        for cx in _centres(x0 - margin, x1 + margin, side, stride):
            window = CropWindow.centred(cx, cy, side)
            probe = cut(values, window, _PROBE)
            if probe.min() < 0.5 < probe.max():
                tiles.append(window)
    return tiles


def _centres(low: float, high: float, side: float, stride: float) -> list[float]:
    """Centres of windows of ``side`` that cover [low, high] with steps of at most ``stride``."""
    count = max(1, math.ceil((high - low - side) / stride) + 1)
    if count == 1:
        return [(low + high) / 2]
    return [float(c) for c in np.linspace(low + side / 2, high - side / 2, count)]
