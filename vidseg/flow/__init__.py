"""Dense optical flow (OpenCV DIS), warping, forward-backward consistency and block flow.

Convention: ``flow = dense_flow(a, b)`` satisfies ``a(x) ≈ b(x + flow(x))``; to carry frame t-1's
mask into frame t, ``backward_warp(mask_prev, dense_flow(frame_t, frame_prev))``.
OpenCV is imported only when a function that needs it runs.
"""

from __future__ import annotations

from vidseg.flow.blocks import block_flow, expand_block_flow
from vidseg.flow.dis import DIS_MODES, FlowConfig, dense_flow, resize_flow
from vidseg.flow.middlebury import (
    FlowPair,
    endpoint_error,
    known_flow_mask,
    load_middlebury_pairs,
    read_flo,
    write_flo,
)
from vidseg.flow.warp import backward_warp, forward_backward_occlusion

__all__ = [
    "DIS_MODES",
    "FlowConfig",
    "FlowPair",
    "backward_warp",
    "block_flow",
    "dense_flow",
    "endpoint_error",
    "expand_block_flow",
    "forward_backward_occlusion",
    "known_flow_mask",
    "load_middlebury_pairs",
    "read_flo",
    "resize_flow",
    "write_flo",
]
