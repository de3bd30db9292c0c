"""Clicks: validation, and the distance maps the interactive network reads.

Coordinates are pixels, x to the right and y down. Boxes are :class:`vidseg.ops.boxes.Box`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidseg.errors import InputError

# Distances are truncated here (in pixels of the network's crop): beyond it a click says nothing.
DISTANCE_CAP = 40.0


@dataclass(frozen=True)
class Click:
    """One user tap: at pixel (x, y), on the object (positive) or on the background (negative)."""

    x: int
    y: int
    positive: bool = True


def check_click(x: float, y: float, width: int, height: int) -> tuple[int, int]:
    """(x, y) as whole pixels; InputError when the point is outside the image."""
    if not (0 <= x < width and 0 <= y < height):
        raise InputError(f"click ({x}, {y}) is outside the {width}x{height} image; "
                         f"use 0 <= x < {width} and 0 <= y < {height}")
    return int(x), int(y)


def distance_maps(points: np.ndarray, positive: np.ndarray, size_hw: tuple[int, int],
                  cap: float = DISTANCE_CAP, disk: float = 0.0) -> np.ndarray:
    """(2, H, W) float32 closeness maps of the positive and the negative clicks.

    points: (N, 2) float (x, y) in the map's pixels (may lie outside it); positive: (N,) bool.
    Each map is ``1 - min(d, cap) / cap`` with d the distance to the nearest click of its kind:
    1 on a click, 0 far from every click (and everywhere when there is none). With ``disk`` > 0
    each map is instead 1 within ``disk`` pixels of a click of its kind and 0 elsewhere (RITM's
    disks, which say where a click is and nothing about how far its object reaches).
    """
    h, w = size_hw
    out = np.zeros((2, h, w), np.float32)
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    for channel, wanted in enumerate((True, False)):
        chosen = points[np.asarray(positive, bool) == wanted]
        if len(chosen) == 0:
            continue
        nearest = np.full((h, w), np.inf, np.float32)
        for px, py in chosen:
            np.minimum(nearest, (xs - px) ** 2 + (ys - py) ** 2, out=nearest)
        if disk > 0:
            out[channel] = nearest <= disk * disk
        else:
            out[channel] = 1 - np.minimum(np.sqrt(nearest), cap) / cap
    return out
