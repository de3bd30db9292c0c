"""Fill values that a warp cannot explain (occluded pixels) from their consistent neighbours."""

from __future__ import annotations

import numpy as np


def fill_from_neighbours(values: np.ndarray, invalid: np.ndarray, size: int) -> np.ndarray:
    """Replace ``values`` (H, W, K) at ``invalid`` (HxW bool) by the mean of valid pixels nearby.

    Pixels with no valid neighbour in the ``size`` x ``size`` window keep their own value.
    """
    import cv2

    if not invalid.any():
        return values
    valid = (~invalid).astype(np.float32)
    weights = cv2.boxFilter(valid, -1, (size, size), normalize=False)
    sums = cv2.boxFilter(values * valid[..., None], -1, (size, size), normalize=False).reshape(values.shape)
    has_support = invalid & (weights > 0.5)
    out = values.copy()
    out[has_support] = sums[has_support] / weights[has_support][:, None]
    return out


def fill_occluded(values: np.ndarray, occluded: np.ndarray, size: int, keep: np.ndarray | None = None) -> np.ndarray:
    """Fill full-resolution ``values`` (H, W, K) where the flow grid's ``occluded`` (h, w) says so.

    The fill runs on the flow grid, plenty for a region whose content is a guess anyway.
    keep: (H, W) weight in [0, 1] of the original values (default: 0 on occluded cells, else 1);
    the result is ``filled + keep * (values - filled)``.
    """
    import cv2

    if not occluded.any():
        return values
    height, width, k = values.shape
    h, w = occluded.shape
    small = cv2.resize(values, (w, h), interpolation=cv2.INTER_AREA).reshape(h, w, k)
    filled = fill_from_neighbours(small, occluded, size)
    filled = cv2.resize(filled, (width, height), interpolation=cv2.INTER_LINEAR).reshape(values.shape)
    if keep is None:
        keep = cv2.resize((~occluded).astype(np.float32), (width, height), interpolation=cv2.INTER_NEAREST)
    return filled + keep[..., None] * (values - filled)
