"""Cues a selection gives for free, as maps beside the clicks: where the box is, and which colours
are the object's.

A network trained from scratch on a few dozen videos learns little about what an object looks
like; GrabCut's lesson is that the colours inside a box against those just outside it already say
much. So the interactive network is given a colour likelihood: a joint RGB histogram inside the
box against one of the crop's margin around it (a back-projection, GrabCut's colour model without
its iterations), plus the box itself. For a network trained so (``click_cues``), each click also
speaks for the colours around it, as the seeds of an interactive graph cut (Boykov and Jolly, 2001)
give its colour models: a click on a dark hull that the box's margin of dark water marked as
background raises that colour's likelihood.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

LEVELS = 8  # per colour channel: 512 bins, enough to separate object and background colours coarsely
PRIOR = 1.0  # pseudo-count per bin, so colours seen rarely say "don't know" (0.5)
SEED_RADIUS = 8  # crop pixels: the disk of colours a click speaks for
# Each click's disk counts as this share of its side's whole histogram, so one click moves a colour
# that fills the margin (a scratch trial on the TUNE frames with a network not trained so: mean IoU
# over 20 clicks +0.4 at 1.0 and 8 px, the same at 3.0 and 10 px; docs/benchmarks.md).
SEED_WEIGHT = 1.0


def box_in_crop(box: tuple[float, float, float, float], size: int) -> np.ndarray:
    """(size, size) float32: 1 inside ``box`` (crop pixels, x1/y1 exclusive), 0 outside."""
    out = np.zeros((size, size), np.float32)
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    out[max(y0, 0):max(min(y1, size), 0), max(x0, 0):max(min(x1, size), 0)] = 1
    return out


def colour_likelihood(crop: np.ndarray, inside: np.ndarray, seeds: Sequence[tuple[float, float, bool]] = ()
                      ) -> np.ndarray:
    """(S, S) float32 in [0, 1]: how much each pixel's colour is the box's rather than the margin's.

    crop: (S, S, 3) uint8; inside: (S, S) bool, the box; seeds: clicks (x, y, positive) in crop
    pixels, each adding its disk's colours to the object's side (positive) or the background's. 0.5
    where the box is empty or covers all.
    """
    bins = _bins(crop)
    counts_in = np.bincount(bins[inside], minlength=LEVELS ** 3).astype(np.float32)
    counts_out = np.bincount(bins[~inside], minlength=LEVELS ** 3).astype(np.float32)
    if counts_in.sum() == 0 or counts_out.sum() == 0:
        return np.full(inside.shape, 0.5, np.float32)
    if len(seeds):
        counts_in, counts_out = _with_seeds(bins, counts_in, counts_out, seeds)
    p_in = (counts_in + PRIOR) / (counts_in.sum() + PRIOR * LEVELS ** 3)
    p_out = (counts_out + PRIOR) / (counts_out.sum() + PRIOR * LEVELS ** 3)
    return (p_in / (p_in + p_out))[bins]


def selection_maps(crop: np.ndarray, box: tuple[float, float, float, float],
                   seeds: Sequence[tuple[float, float, bool]] = ()) -> np.ndarray:
    """(2, S, S) float32: the box and the colour likelihood, for a crop (S, S, 3) uint8, the
    selection's box in crop pixels and the clicks that seed the colour models (:func:`colour_likelihood`)."""
    inside = box_in_crop(box, crop.shape[0])
    return np.stack([inside, colour_likelihood(crop, inside > 0, seeds)])


def _with_seeds(bins: np.ndarray, counts_in: np.ndarray, counts_out: np.ndarray,
                seeds: Sequence[tuple[float, float, bool]]) -> tuple[np.ndarray, np.ndarray]:
    """The two histograms with each seed's disk of colours added to its side, weighed against the
    side's count before any seed (so the order of the clicks does not matter)."""
    totals = counts_in.sum(), counts_out.sum()
    counts = [counts_in.copy(), counts_out.copy()]
    disk = np.zeros(bins.shape, np.uint8)
    for x, y, positive in seeds:
        if not (0 <= x < bins.shape[1] and 0 <= y < bins.shape[0]):
            continue  # a click outside this crop (a focus window) says nothing about its colours
        disk[:] = 0
        cv2.circle(disk, (int(round(x)), int(round(y))), SEED_RADIUS, 1, thickness=-1)
        hist = np.bincount(bins[disk > 0], minlength=LEVELS ** 3).astype(np.float32)
        side = 0 if positive else 1
        counts[side] += SEED_WEIGHT * totals[side] * hist / hist.sum()
    return counts[0], counts[1]


def _bins(crop: np.ndarray) -> np.ndarray:
    q = (crop // (256 // LEVELS)).astype(np.int32)
    return (q[..., 0] * LEVELS + q[..., 1]) * LEVELS + q[..., 2]
