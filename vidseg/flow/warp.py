"""Warping by a dense flow, and the forward-backward consistency (occlusion) test.

Flows follow the convention of :mod:`vidseg.flow.dis`: pixel ``x = (col, row)`` of the grid the flow
lives on corresponds to point ``x + flow(x)`` of the other image.

A point counts as inside an image of size HxW when it lies within the pixels' area,
``-0.5 <= col <= W - 0.5`` and ``-0.5 <= row <= H - 0.5``; points in the half-pixel rim beyond the
outermost pixel centres take the edge pixels' values, so a flow that is 1e-6 too large at the border
does not wipe out the image's last column.
"""

from __future__ import annotations

import numpy as np

from vidseg.errors import InputError

_MAX_REMAP_CHANNELS = 64


def _check_flow(flow: np.ndarray, name: str, shape: tuple[int, int] | None = None) -> None:
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise InputError(f"{name} must be HxWx2 (dx, dy), got shape {flow.shape}")
    if shape is not None and flow.shape[:2] != shape:
        raise InputError(f"{name} is {flow.shape[:2]} but the image is {shape}; compute flow at the image's size")


def _sample_points(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Target points ``x + flow(x)`` as float32 maps (cols, rows) and a bool mask of those outside.

    flow: HxWx2. Returns map_x HxW, map_y HxW, outside HxW (non-finite targets count as outside).
    """
    h, w = flow.shape[:2]
    cols, rows = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x = cols + flow[..., 0].astype(np.float32)
    map_y = rows + flow[..., 1].astype(np.float32)
    inside = (map_x >= -0.5) & (map_x <= w - 0.5) & (map_y >= -0.5) & (map_y <= h - 0.5)
    return map_x, map_y, ~inside


def backward_warp(image: np.ndarray, flow: np.ndarray, border_value: float = 0.0) -> np.ndarray:
    """Sample ``image`` at ``x + flow(x)``: ``out(x) = image(x + flow(x))``, bilinear.

    image: HxW or HxWxC, real-valued (soft masks, probabilities, flows); computed in float32.
    flow: HxWx2 float on the output grid (e.g. ``dense_flow(frame_t, frame_prev)`` to bring a mask
        of frame_prev into frame_t).
    Returns float32 of ``image``'s shape; pixels whose target is outside the image get
    ``border_value``. OpenCV interpolates at 1/32-pixel precision, ample for masks.
    """
    import cv2

    image = np.asarray(image)
    if image.ndim not in (2, 3) or not (np.issubdtype(image.dtype, np.number) or image.dtype == bool):
        raise InputError(f"image to warp must be a numeric HxW or HxWxC array, got {image.dtype} {image.shape}")
    _check_flow(flow, "flow", image.shape[:2])
    map_x, map_y, outside = _sample_points(flow)
    src = image.astype(np.float32).reshape(*image.shape[:2], -1)
    out = np.empty_like(src)
    # OpenCV takes at most a few dozen channels per array (more are silently misread).
    for c in range(0, src.shape[2], _MAX_REMAP_CHANNELS):
        chunk = np.ascontiguousarray(src[..., c : c + _MAX_REMAP_CHANNELS])
        # Replicate so that the half-pixel rim interpolates from edge pixels; truly outside
        # points are overwritten below.
        warped = cv2.remap(chunk, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out[..., c : c + _MAX_REMAP_CHANNELS] = warped.reshape(chunk.shape)
    out[outside] = border_value
    return out.reshape(image.shape)


def forward_backward_occlusion(
    flow_fw: np.ndarray, flow_bw: np.ndarray, alpha: float = 0.01, beta: float = 0.5
) -> np.ndarray:
    """Pixels where forward and backward flow disagree (Sundaram, Brox, Keutzer, ECCV 2010).

    flow_fw: HxWx2, ``dense_flow(a, b)``; flow_bw: HxWx2, ``dense_flow(b, a)``.
    Returns bool HxW on ``a``'s grid, True where occluded or unreliable::

        |f(x) + b(x + f(x))|^2 > alpha * (|f(x)|^2 + |b(x + f(x))|^2) + beta

    and where ``x + f(x)`` falls outside the image. The tolerance grows with the motion because
    flow errors do too.
    """
    _check_flow(flow_fw, "flow_fw")
    _check_flow(flow_bw, "flow_bw", flow_fw.shape[:2])
    f = flow_fw.astype(np.float32, copy=False)
    _, _, outside = _sample_points(f)
    b = backward_warp(flow_bw, f)
    mismatch = np.sum((f + b) ** 2, axis=-1)
    tolerance = alpha * (np.sum(f**2, axis=-1) + np.sum(b**2, axis=-1)) + beta
    return (mismatch > tolerance) | outside
