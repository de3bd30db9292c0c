"""Per-frame segmentation metrics and per-sequence statistics, as the DAVIS benchmark defines them.

``region_iou`` is J, ``boundary_f`` is F; ``recall`` and ``decay`` turn a sequence of per-frame values
into DAVIS's recall and decay. The constructions follow the DAVIS 2017 evaluation code exactly
(boundaries from ``seg2bmap``, matching by dilation with a disk), so scores compare with published ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

from vidseg.errors import InputError

DEFAULT_BOUND_TH = 0.008


def _check_pair(pred: np.ndarray, gt: np.ndarray) -> None:
    if pred.shape != gt.shape or pred.ndim != 2:
        raise InputError(
            f"prediction mask is {pred.shape} but ground truth is {gt.shape}; "
            "pass two 2-D masks of the same height and width"
        )


def region_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Region similarity J: intersection over union of two masks (1.0 when both are empty).

    pred, gt: (H, W) bool (any non-zero counts as foreground).
    """
    _check_pair(pred, gt)
    pred, gt = pred.astype(bool, copy=False), gt.astype(bool, copy=False)
    union = np.count_nonzero(pred | gt)
    if union == 0:
        return 1.0
    return np.count_nonzero(pred & gt) / union


def seg2bmap(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide boundary map of a mask, as in the DAVIS code (after D. Martin's seg2bmap).

    A pixel is on the boundary when it differs from its east, south or south-east neighbour, so the
    boundary sits half a pixel towards the origin. mask: (H, W) bool. Returns (H, W) bool.
    """
    seg = mask.astype(bool, copy=False)
    e = np.zeros_like(seg)
    s = np.zeros_like(seg)
    se = np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = (seg ^ e) | (seg ^ s) | (seg ^ se)
    # The last row and column have no south / east neighbour; DAVIS compares them along the edge only.
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = False
    return b


@lru_cache(maxsize=16)
def disk(radius: int) -> np.ndarray:
    """Disk structuring element, (2r+1, 2r+1) uint8, 1 where x^2 + y^2 <= r^2 (as scikit-image's)."""
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y <= radius * radius).astype(np.uint8)


def boundary_tolerance(shape: tuple[int, int], bound_th: float = DEFAULT_BOUND_TH) -> int:
    """Matching distance in pixels: ``ceil(bound_th * image diagonal)``; a bound_th >= 1 is pixels."""
    if bound_th >= 1:
        return int(math.ceil(bound_th))
    return int(math.ceil(bound_th * math.hypot(shape[0], shape[1])))


def boundary_f(pred: np.ndarray, gt: np.ndarray, bound_th: float = DEFAULT_BOUND_TH) -> float:
    """Boundary F-measure F of two masks, boundaries matched within ``boundary_tolerance`` pixels.

    pred, gt: (H, W) bool. Precision is the share of predicted boundary pixels near a ground-truth
    one, recall the converse. Edge cases as in DAVIS 2017: no predicted boundary but a ground-truth one
    gives P=1, R=0; a predicted one but none in the ground truth P=0, R=1; neither gives 1.
    """
    _check_pair(pred, gt)
    radius = boundary_tolerance(pred.shape, bound_th)
    pred, gt = _crop_to_union(pred.astype(bool, copy=False), gt.astype(bool, copy=False))
    pred_b = seg2bmap(pred)
    gt_b = seg2bmap(gt)
    n_pred = int(np.count_nonzero(pred_b))
    n_gt = int(np.count_nonzero(gt_b))
    if n_pred == 0 or n_gt == 0:
        precision = 1.0 if n_pred == 0 else 0.0
        recall_ = 1.0 if n_gt == 0 else 0.0
    else:
        kernel = disk(radius)
        # cv2 pads a dilation with -inf, so working on the crop leaves the matches exact.
        pred_near = cv2.dilate(pred_b.view(np.uint8), kernel).view(bool)
        gt_near = cv2.dilate(gt_b.view(np.uint8), kernel).view(bool)
        precision = np.count_nonzero(pred_b & gt_near) / n_pred
        recall_ = np.count_nonzero(gt_b & pred_near) / n_gt
    if precision + recall_ == 0:
        return 0.0
    return float(2 * precision * recall_ / (precision + recall_))


def _crop_to_union(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Crop two (H, W) bool masks to their union's bounding box plus one pixel, clipped to the image.

    Exact for ``seg2bmap``: a pixel outside that margin has only background neighbours, and the
    crop's last row / column is either all background or the image's own last row / column.
    Both empty: returns (1, 1) crops.
    """
    union = a | b
    rows = np.flatnonzero(union.any(axis=1))
    if rows.size == 0:
        return a[:1, :1], b[:1, :1]
    cols = np.flatnonzero(union.any(axis=0))
    box = (
        slice(max(rows[0] - 1, 0), rows[-1] + 2),
        slice(max(cols[0] - 1, 0), cols[-1] + 2),
    )
    return np.ascontiguousarray(a[box]), np.ascontiguousarray(b[box])


def _as_values(values: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("need at least one per-frame value")
    return arr


def recall(values: Sequence[float] | np.ndarray, threshold: float = 0.5) -> float:
    """Share of frames whose value is above ``threshold`` (DAVIS's J / F recall), in 0..1."""
    return float(np.mean(_as_values(values) > threshold))


def decay(values: Sequence[float] | np.ndarray, n_bins: int = 4) -> float:
    """Mean of the first bin of frames minus mean of the last (DAVIS's J / F decay).

    Bins split as the DAVIS 2017 code does: edges ``round(linspace(1, n, n_bins + 1)) - 1``, bin i
    spanning edges i..i+1 inclusive (neighbouring bins share a frame). DAVIS casts the edges to uint8,
    which wraps past 256 frames; here they stay integers.
    """
    arr = _as_values(values)
    edges = (np.round(np.linspace(1, arr.size, n_bins + 1) + 1e-10) - 1).astype(np.int64)
    first = arr[edges[0] : edges[1] + 1]
    last = arr[edges[-2] : edges[-1] + 1]
    return float(first.mean() - last.mean())
