"""Edge-aware upsampling of soft masks: the fast guided filter (He & Sun 2015, after He et al. 2010).

The guided filter models the output, in every window, as a linear function of the guide image,
``q = a * I + b``, fitted to the input mask in the least-squares sense with ``eps`` penalising
``a``. Where the guide has an edge inside a window, ``a`` is large and the mask's transition snaps
to the edge; in flat regions ``a`` ~ 0 and the mask is just smoothed. The fast variant fits ``a``
and ``b`` at the mask's low resolution and only applies them at full resolution, because they vary
slowly; the full-resolution guide then supplies the edge detail.

Plain numpy/OpenCV (no torch), to run after a network on every frame.
"""

from __future__ import annotations

import numpy as np

from vidseg.errors import InputError
from vidseg.ops.images import downscale_grey


def guided_upsample(low_probs: np.ndarray, guide: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Upsample soft masks to the guide's resolution, snapping their edges to the guide's edges.

    low_probs: (C, h, w) float, values in [0, 1] (per-object or per-slot probabilities).
    guide: (H, W, 3) uint8 RGB or (H, W) uint8 grey, the full-resolution frame; H >= h, W >= w.
    radius: window radius in full-resolution pixels (the window is 2*radius+1 wide); it is
        scaled down to the low resolution for the fit, at least 1 pixel there.
    eps: regularisation in squared guide intensity units, the guide taken in [0, 1]; edges with
        a contrast well below sqrt(eps) are smoothed over (e.g. 1e-3 keeps edges above ~0.03).
    Returns (C, H, W) float32 clipped to [0, 1]; when C > 1, renormalised so channels sum to 1.
    """
    import cv2

    low = _check_probs(low_probs)
    grey = _guide_grey(guide)
    if radius < 1 or eps <= 0:
        raise InputError(f"guided filter needs radius >= 1 and eps > 0, got radius={radius}, eps={eps}")
    channels, h, w = low.shape
    height, width = grey.shape
    if height < h or width < w:
        raise InputError(f"guide {grey.shape} is smaller than the masks {(h, w)}; pass the full-resolution frame")
    small_guide = cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA) if (h, w) != (height, width) else grey
    low_radius = max(1, round(radius * (h / height + w / width) / 2))
    # The filter is linear and keeps constants, so when the channels sum to 1 (probabilities) the
    # outputs do too: channel 0 is then 1 minus the others, which halves the work for C = 2.
    first = 1 if channels > 1 and np.allclose(low.sum(axis=0), 1.0, atol=1e-4) else 0
    a, b = _coefficients(low[first:], small_guide, low_radius, eps)
    out = np.empty((channels, height, width), np.float32)
    up_a, up_b = np.empty((height, width), np.float32), np.empty((height, width), np.float32)
    for c in range(first, channels):
        a_c, b_c = a[c - first], b[c - first]
        if (h, w) != (height, width):
            a_c = cv2.resize(a_c, (width, height), dst=up_a, interpolation=cv2.INTER_LINEAR)
            b_c = cv2.resize(b_c, (width, height), dst=up_b, interpolation=cv2.INTER_LINEAR)
        # q = a * I + b, written straight into the output (no full-size temporaries).
        cv2.multiply(a_c, grey, dst=out[c])
        cv2.add(out[c], b_c, dst=out[c])
    np.clip(out[first:], 0.0, 1.0, out=out[first:])
    if first:
        np.subtract(1.0, out[1] if channels == 2 else out[1:].sum(axis=0), out=out[0])
        if channels == 2:
            return out  # both channels already in [0, 1] and summing to 1
        np.clip(out[0], 0.0, 1.0, out=out[0])
    return _renormalise(out) if channels > 1 else out


def _check_probs(low_probs: np.ndarray) -> np.ndarray:
    low = np.asarray(low_probs)
    if low.ndim != 3 or low.shape[0] < 1 or min(low.shape[1:]) < 1 or not np.issubdtype(low.dtype, np.number):
        raise InputError(f"low_probs must be numeric (C, h, w), got {low.dtype} {low.shape}")
    return low.astype(np.float32, copy=False)


def _guide_grey(guide: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB or (H, W) uint8 -> (H, W) float32 in [0, 1]."""
    if guide.dtype != np.uint8 or not (guide.ndim == 2 or (guide.ndim == 3 and guide.shape[2] == 3)):
        raise InputError(f"guide must be an HxWx3 RGB or HxW grey uint8 image, got {guide.dtype} {guide.shape}")
    return np.multiply(downscale_grey(guide, 1.0), np.float32(1.0 / 255.0), dtype=np.float32)


def _coefficients(p: np.ndarray, guide: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Window means of the linear coefficients: p (C, h, w), guide (h, w) -> a, b each (C, h, w)."""
    import cv2

    size = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        # Reflected borders: windows at the edge see a mirrored image, not zeros.
        return cv2.boxFilter(x, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    mean_i = box(guide)
    var_i = box(guide * guide) - mean_i * mean_i
    a = np.empty_like(p)
    b = np.empty_like(p)
    for c in range(p.shape[0]):
        mean_p = box(p[c])
        cov_ip = box(guide * p[c]) - mean_i * mean_p
        a_c = cov_ip / (var_i + eps)
        a[c] = box(a_c)
        b[c] = box(mean_p - a_c * mean_i)
    return a, b


def _renormalise(probs: np.ndarray) -> np.ndarray:
    """(C, H, W) in [0, 1] -> sums to 1 per pixel (in place); all-zero pixels become uniform."""
    total = probs.sum(axis=0)
    empty = total < 1e-6
    if empty.any():
        probs[:, empty] = 1.0 / probs.shape[0]
        total[empty] = 1.0
    probs /= total[None]
    return probs
