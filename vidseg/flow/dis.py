"""Dense optical flow with OpenCV's DIS (Dense Inverse Search, Kroeger et al. 2016).

Convention, used everywhere in ``vidseg.flow``: ``flow = dense_flow(a, b)`` gives, for every pixel
``x = (col, row)`` of ``a``, the displacement to where that content lies in ``b``::

    a(x) ≈ b(x + flow(x))          flow[..., 0] = dx (columns), flow[..., 1] = dy (rows)

So ``backward_warp(b_values, dense_flow(a, b))`` brings values defined on ``b``'s grid onto ``a``'s
grid. To carry frame t-1's mask into frame t: ``backward_warp(mask_prev, dense_flow(frame_t,
frame_prev))``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from vidseg.errors import InputError
from vidseg.ops.images import downscale_grey, to_grey

DIS_MODES = ("ultrafast", "fast", "medium")

# DIS crashes the process (segfault in OpenCV 5.0) on some small or short-and-wide images, e.g.
# 12x40 or 28x512 (rows x cols); every shape with both sides >= 32 was safe when probed, so
# smaller inputs are edge-padded up to this size and the flow cropped back.
_MIN_DIS_SIDE = 32

# DIS objects keep buffers between calls and are not safe to share between threads.
_local = threading.local()


@dataclass(frozen=True)
class FlowConfig:
    """How :func:`dense_flow` computes flow.

    mode: DIS operating mode, "ultrafast" | "fast" | "medium" (slower, more accurate).
    scale: compute flow on frames resized by this factor (0 < scale <= 1) and rescale the vectors
        to full resolution; 0.5 is about 4x faster, at the cost of fine motion detail.
    """

    mode: str = "fast"
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in DIS_MODES:
            raise InputError(f"unknown flow mode {self.mode!r}; use one of {', '.join(DIS_MODES)}")
        if not 0.0 < self.scale <= 1.0:
            raise InputError(f"flow scale must be in (0, 1], got {self.scale}; use e.g. 0.5 for half resolution")


def _dis(mode: str):
    """The DIS object for ``mode``, created on first use and cached per thread.

    OpenCV lowers the object's finest scale for good after one small image, which silently makes
    later calls slower and different; it is reset to the mode's value before every use.
    """
    import cv2

    cache = getattr(_local, "dis", None)
    if cache is None:
        cache = _local.dis = {}
    if mode not in cache:
        code = {
            "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
            "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
            "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
        }[mode]
        dis = cv2.DISOpticalFlow_create(code)
        cache[mode] = (dis, dis.getFinestScale())
    dis, finest_scale = cache[mode]
    dis.setFinestScale(finest_scale)
    return dis


def _calc_padded(dis, grey_a: np.ndarray, grey_b: np.ndarray) -> np.ndarray:
    """DIS flow, padding images smaller than ``_MIN_DIS_SIDE`` so that OpenCV does not crash."""
    import cv2

    h, w = grey_a.shape
    pad_h, pad_w = max(0, _MIN_DIS_SIDE - h), max(0, _MIN_DIS_SIDE - w)
    if pad_h or pad_w:
        grey_a = cv2.copyMakeBorder(grey_a, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        grey_b = cv2.copyMakeBorder(grey_b, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
    flow = dis.calc(grey_a, grey_b, None)
    return np.ascontiguousarray(flow[:h, :w])


def dense_flow(src: np.ndarray, dst: np.ndarray, config: FlowConfig = FlowConfig()) -> np.ndarray:
    """Dense flow from ``src`` to ``dst``: ``src(x) ≈ dst(x + flow(x))`` (see the module docstring).

    src, dst: HxWx3 uint8 RGB or HxW uint8 grey, same height and width.
    Returns HxWx2 float32 on ``src``'s grid, in full-resolution pixels: [..., 0] = dx, [..., 1] = dy.
    """
    if src.shape[:2] != dst.shape[:2]:
        raise InputError(f"frames differ in size: {src.shape[:2]} vs {dst.shape[:2]}; resize them to match")
    grey_a, grey_b = to_grey(src, "src"), to_grey(dst, "dst")
    h, w = grey_a.shape
    dis = _dis(config.mode)
    if config.scale == 1.0:
        return _calc_padded(dis, grey_a, grey_b)
    small_a, small_b = downscale_grey(grey_a, config.scale), downscale_grey(grey_b, config.scale)
    return resize_flow(_calc_padded(dis, small_a, small_b), h, w)


def resize_flow(flow: np.ndarray, height: int, width: int) -> np.ndarray:
    """hxwx2 flow -> HxWx2 on a grid of ``height`` x ``width``, vectors rescaled to its pixels."""
    import cv2

    h, w = flow.shape[:2]
    if (h, w) == (height, width):
        return flow
    out = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    # The two axes may have been rounded differently when the small grid was made.
    out[..., 0] *= width / w
    out[..., 1] *= height / h
    return out
