"""Baseline method ``flow``: carry every object's mask by dense optical flow, with occlusion handling.

Each frame t is explained by frame t-1: the backward flow (t -> t-1) warps the previous masks into
frame t. Where the forward-backward check fails, the pixel was not visible in t-1 (it was occluded
or came into view), so its warped value is meaningless; it takes the labels of its consistent
neighbours instead (normalised convolution). Flow, check and fill run at the flow's reduced
resolution; only the warp itself runs at full resolution, where the boundary is decided. The state
is kept hard (one-hot of the arg-max): soft masks warped again and again blur away at the edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidseg.flow import FlowConfig, backward_warp, dense_flow, forward_backward_occlusion, resize_flow
from vidseg.flow.fill import fill_occluded
from vidseg.ops.images import downscale_grey
from vidseg.ops.slots import one_hot, to_slots


@dataclass(frozen=True)
class FlowPropagatorConfig:
    """mode, scale: DIS mode ("ultrafast", "fast", "medium"), and the frame scale the flow is computed at (for speed).
    occlusion: run the forward-backward check (costs a second flow field).
    fill_size: side, in flow-resolution pixels, of the window that fills inconsistent pixels."""

    mode: str = "medium"
    scale: float = 0.5
    occlusion: bool = True
    fill_size: int = 11


class FlowPropagator:
    name = "flow"

    def __init__(self, config: FlowPropagatorConfig | None = None) -> None:
        self.config = config or FlowPropagatorConfig()
        self._flow = FlowConfig(mode=self.config.mode, scale=1.0)  # frames arrive pre-scaled
        self._prev_grey: np.ndarray | None = None
        self._prev_probs: np.ndarray | None = None

    def reset(self) -> None:
        self._prev_grey = None
        self._prev_probs = None

    def predict(self, frame: np.ndarray) -> np.ndarray:
        """Frame (HxWx3 uint8) -> (K + 1, H, W) probabilities warped from the previous frame."""
        if self._prev_grey is None or self._prev_probs is None:
            raise RuntimeError("FlowPropagator.predict called before any update")
        height, width = frame.shape[:2]
        grey = downscale_grey(frame, self.config.scale)
        back = dense_flow(grey, self._prev_grey, self._flow)
        objects = np.moveaxis(self._prev_probs[1:], 0, -1)  # (H, W, K): warp objects, not background
        warped = backward_warp(objects, resize_flow(back, height, width)).reshape(objects.shape)
        if self.config.occlusion:
            occluded = forward_backward_occlusion(back, dense_flow(self._prev_grey, grey, self._flow))
            warped = fill_occluded(warped, occluded, self.config.fill_size)
        warped = np.moveaxis(warped, -1, 0)
        background = np.clip(1.0 - warped.sum(axis=0, keepdims=True), 0.0, 1.0)
        return np.concatenate([background, warped], axis=0).astype(np.float32)

    def update(self, frame: np.ndarray, probs: np.ndarray, prompted: bool = False) -> None:
        self._prev_grey = downscale_grey(frame, self.config.scale)
        self._prev_probs = one_hot(to_slots(probs), probs.shape[0])
