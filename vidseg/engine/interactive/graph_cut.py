"""Graph-cut polish of a box selection: GrabCut started from the network's mask instead of the box.

From a box alone the network knows little about the object's colours, while GrabCut's colour
models fitted to the box's inside and outside know nothing about shape: started from the whole
box as "probably object", GrabCut often keeps background that shares the box. Started from the
network's mask (probable object where the network says so, probable background elsewhere in the
box, sure background outside it), its colour models are fitted to a far better split, and its
graph cut then snaps the outline to colour edges at the image's resolution (the README's
interactive table has the row without it).

Only the first mask of a box selection is polished: it may take a few hundred milliseconds, which
the first mask can afford and a correction click cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidseg.errors import InputError


@dataclass(frozen=True)
class GraphCutConfig:
    """enabled: polish the first mask of a box selection. iterations: GrabCut's. max_side: the
    region around the box is downscaled to at most this many pixels a side for the cut (speed).
    margin: the region is the box grown by this share of its width and height on each side."""

    enabled: bool = True
    iterations: int = 1  # on training frames 1 iteration at full size and 3 at 480 px scored alike
    max_side: int = 480
    margin: float = 0.25

    def __post_init__(self) -> None:
        if self.iterations < 1 or self.max_side < 32 or self.margin < 0:
            raise InputError(f"graph cut needs iterations >= 1, max_side >= 32 and margin >= 0, got {self}")


def polish_with_graph_cut(image: np.ndarray, box: tuple[int, int, int, int], probs: np.ndarray,
                          config: GraphCutConfig = GraphCutConfig()) -> np.ndarray:
    """The network's box selection polished by GrabCut.

    image: (H, W, 3) uint8 RGB; box: whole pixels inside the image (``Box.pixels``), x1/y1 exclusive;
    probs: (H, W) float32, the network's object probability. Returns (H, W) float32: 1 on the
    object GrabCut finds, 0 elsewhere; ``probs`` unchanged when the network found nothing in the box
    or GrabCut keeps nothing (no colour model can be fitted from an empty side).
    """
    h, w = probs.shape
    x0, y0, x1, y1 = box
    px, py = int(np.ceil(config.margin * (x1 - x0))), int(np.ceil(config.margin * (y1 - y0)))
    rx0, ry0, rx1, ry1 = max(0, x0 - px), max(0, y0 - py), min(w, x1 + px), min(h, y1 + py)
    labels = np.full((ry1 - ry0, rx1 - rx0), cv2.GC_BGD, np.uint8)
    inside = probs[y0:y1, x0:x1] > 0.5
    labels[y0 - ry0 : y1 - ry0, x0 - rx0 : x1 - rx0] = np.where(inside, cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    if not inside.any():
        return probs
    region = cv2.cvtColor(image[ry0:ry1, rx0:rx1], cv2.COLOR_RGB2BGR)
    scale = min(1.0, config.max_side / max(region.shape[:2]))
    if scale < 1.0:
        size = (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale)))
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
        labels = cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)
    found = _grabcut(region, labels, config.iterations)
    if found is None or not found.any():
        return probs
    found = found.astype(np.float32)
    if scale < 1.0:
        found = cv2.resize(found, (rx1 - rx0, ry1 - ry0), interpolation=cv2.INTER_LINEAR)
    out = np.zeros((h, w), np.float32)
    out[ry0:ry1, rx0:rx1] = found > 0.5
    return out


def _grabcut(region: np.ndarray, labels: np.ndarray, iterations: int) -> np.ndarray | None:
    """GrabCut from ``labels`` on ``region`` (BGR); the (h, w) bool object, or None when either side
    has too few pixels for its colour model (OpenCV's k-means needs 5 per side)."""
    fg = (labels == cv2.GC_PR_FGD) | (labels == cv2.GC_FGD)
    if fg.sum() < 5 or (~fg).sum() < 5:
        return None
    cv2.setRNGSeed(0)  # GrabCut's k-means: the same mask for the same input
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(region, labels, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    return (labels == cv2.GC_PR_FGD) | (labels == cv2.GC_FGD)
