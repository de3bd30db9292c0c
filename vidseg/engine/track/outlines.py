"""Outlines of the polar head: n ray lengths around a centre as a polygon, and polygons as masks."""

from __future__ import annotations

import cv2
import numpy as np

from vidseg.nn.polar import MIN_RAYS, ray_angles


def resample_rays(rays: np.ndarray, count: int) -> np.ndarray:
    """(n,) ray lengths at angles 2*pi*i/n -> (count,) at 2*pi*k/count, linear around the circle."""
    n = len(rays)
    if count == n:
        return np.asarray(rays, np.float64)
    return np.interp(np.arange(count) * n / count, np.arange(n), rays, period=n)


def polygon_mask(polygon: np.ndarray | None, height: int, width: int) -> np.ndarray:
    """(H, W) bool: the polygon (n, 2) filled; empty when None. Sub-pixel vertices (4 fractional bits)."""
    mask = np.zeros((height, width), np.uint8)
    if polygon is not None and len(polygon) >= MIN_RAYS:
        cv2.fillPoly(mask, [np.round(polygon * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return mask.astype(bool)


def ray_polygon(origin: np.ndarray, rays: np.ndarray, count: int, scale: float) -> np.ndarray:
    """(count, 2) float32 polygon: the (n,) ray lengths ``rays`` from ``origin`` (x, y), resampled to
    ``count`` rays at angles 2*pi*k/count and multiplied by ``scale``."""
    lengths = resample_rays(rays, count) * scale
    angles = ray_angles(count)
    polygon = origin + lengths[:, None] * np.stack([np.cos(angles), np.sin(angles)], 1)
    return polygon.astype(np.float32)
