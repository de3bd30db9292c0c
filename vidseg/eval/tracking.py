"""Tracking scores as OTB defines them: success AUC and precision at a centre-error threshold.

Boxes are (x, y, w, h) in pixels, or None where a tracker reports the object lost (overlap 0,
centre error infinite). Frames without a ground-truth box (the object absent) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# OTB's own convention, kept at this benchmark edge so its numbers match published ones; the rest
# of vidseg speaks vidseg.ops.boxes.Box (x0, y0, x1, y1), converted with Box.to_xywh / from_xywh.
XYWH = tuple[float, float, float, float]
THRESHOLDS = np.linspace(0, 1, 21)  # OTB's 0, 0.05, ..., 1


def box_overlap(a: XYWH | None, b: XYWH | None) -> float:
    """IoU of two (x, y, w, h) boxes; 0 when either is None or has no area."""
    if a is None or b is None:
        return 0.0
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def centre_error(a: XYWH | None, b: XYWH | None) -> float:
    """Distance in pixels between the centres of two boxes; infinite when either is None."""
    if a is None or b is None:
        return float("inf")
    return float(np.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2))


def _pairs(pred: Sequence[XYWH | None], truth: Sequence[XYWH | None]) -> list[tuple[XYWH | None, XYWH]]:
    if len(pred) != len(truth):
        raise ValueError(f"{len(pred)} predicted boxes for {len(truth)} ground-truth boxes")
    return [(p, t) for p, t in zip(pred, truth) if t is not None]


def success_curve(pred: Sequence[XYWH | None], truth: Sequence[XYWH | None]) -> np.ndarray:
    """(21,) share of frames whose overlap exceeds each threshold of :data:`THRESHOLDS`."""
    overlaps = np.array([box_overlap(p, t) for p, t in _pairs(pred, truth)])
    if overlaps.size == 0:
        return np.zeros(len(THRESHOLDS))
    return np.array([(overlaps > th).mean() for th in THRESHOLDS])


def success_auc(pred: Sequence[XYWH | None], truth: Sequence[XYWH | None]) -> float:
    """Area under the success curve (its mean over the thresholds), 0..1."""
    return float(success_curve(pred, truth).mean())


def precision_at(pred: Sequence[XYWH | None], truth: Sequence[XYWH | None], pixels: float = 20.0) -> float:
    """Share of frames whose centre error is at most ``pixels``."""
    errors = np.array([centre_error(p, t) for p, t in _pairs(pred, truth)])
    return float((errors <= pixels).mean()) if errors.size else 0.0


def mask_box(mask: np.ndarray) -> XYWH | None:
    """The bounding box (x, y, w, h) of a mask's non-zero pixels; None when it has none."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    return float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)
