"""Image conversions shared by flow, filters and models: grey versions of RGB frames at a scale."""

from __future__ import annotations

import numpy as np

from vidseg.errors import InputError


def to_grey(image: np.ndarray, name: str) -> np.ndarray:
    """HxW uint8 grey from HxW uint8 grey or HxWx3 uint8 RGB."""
    import cv2

    if image.dtype != np.uint8:
        raise InputError(f"{name} must be uint8 (0..255), got {image.dtype}; convert the frame first")
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    raise InputError(f"{name} must be HxW grey or HxWx3 RGB, got shape {image.shape}")


def downscale_grey(image: np.ndarray, scale: float) -> np.ndarray:
    """HxWx3 RGB or HxW grey uint8 -> grey uint8 of size ``round(scale * (H, W))`` (area filter)."""
    import cv2

    grey = to_grey(image, "image")
    if scale == 1.0:
        return grey
    h, w = grey.shape
    small = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(grey, small, interpolation=cv2.INTER_AREA)
