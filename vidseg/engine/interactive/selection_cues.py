"""Cues a selection gives for free, as maps beside the clicks: where the box is, and which colours
are the object's.

A network trained from scratch on a few dozen videos learns little about what an object looks
like; GrabCut's lesson is that the colours inside a box against those just outside it already say
much. So the interactive network is given a colour likelihood: a joint RGB histogram inside the
box against one of the crop's margin around it (a back-projection, GrabCut's colour model without
its iterations), plus the box itself.
"""

from __future__ import annotations

import numpy as np

LEVELS = 8  # per colour channel: 512 bins, enough to separate object and background colours coarsely
PRIOR = 1.0  # pseudo-count per bin, so colours seen rarely say "don't know" (0.5)


def box_in_crop(box: tuple[float, float, float, float], size: int) -> np.ndarray:
    """(size, size) float32: 1 inside ``box`` (crop pixels, x1/y1 exclusive), 0 outside."""
    out = np.zeros((size, size), np.float32)
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    out[max(y0, 0):max(min(y1, size), 0), max(x0, 0):max(min(x1, size), 0)] = 1
    return out


def colour_likelihood(crop: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """(S, S) float32 in [0, 1]: how much each pixel's colour is the box's rather than the margin's.

    crop: (S, S, 3) uint8; inside: (S, S) bool, the box. 0.5 where the box is empty or covers all.
    """
    bins = _bins(crop)
    counts_in = np.bincount(bins[inside], minlength=LEVELS ** 3).astype(np.float32)
    counts_out = np.bincount(bins[~inside], minlength=LEVELS ** 3).astype(np.float32)
    if counts_in.sum() == 0 or counts_out.sum() == 0:
        return np.full(inside.shape, 0.5, np.float32)
    p_in = (counts_in + PRIOR) / (counts_in.sum() + PRIOR * LEVELS ** 3)
    p_out = (counts_out + PRIOR) / (counts_out.sum() + PRIOR * LEVELS ** 3)
    return (p_in / (p_in + p_out))[bins]


def selection_maps(crop: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """(2, S, S) float32: the box and the colour likelihood, for a crop (S, S, 3) uint8 and the
    selection's box in crop pixels."""
    inside = box_in_crop(box, crop.shape[0])
    return np.stack([inside, colour_likelihood(crop, inside > 0)])


def _bins(crop: np.ndarray) -> np.ndarray:
    q = (crop // (256 // LEVELS)).astype(np.int32)
    return (q[..., 0] * LEVELS + q[..., 1]) * LEVELS + q[..., 2]
