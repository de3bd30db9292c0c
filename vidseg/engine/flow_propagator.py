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

import cv2
import numpy as np

from vidseg.engine.probs import one_hot, to_slots
from vidseg.flow import FlowConfig, backward_warp, dense_flow, downscale_grey, forward_backward_occlusion, resize_flow


@dataclass(frozen=True)
class FlowPropagatorConfig:
    """preset, scale: DIS preset, and the frame scale the flow is computed at (for speed).
    occlusion: run the forward-backward check (costs a second flow field).
    fill_size: side, in flow-resolution pixels, of the window that fills inconsistent pixels."""

    preset: str = "medium"
    scale: float = 0.5
    occlusion: bool = True
    fill_size: int = 11


class FlowPropagator:
    name = "flow"

    def __init__(self, config: FlowPropagatorConfig | None = None) -> None:
        self.config = config or FlowPropagatorConfig()
        self._flow = FlowConfig(preset=self.config.preset, scale=1.0)  # frames arrive pre-scaled
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
            warped = self._fill_occluded(warped, occluded)
        warped = np.moveaxis(warped, -1, 0)
        background = np.clip(1.0 - warped.sum(axis=0, keepdims=True), 0.0, 1.0)
        return np.concatenate([background, warped], axis=0).astype(np.float32)

    def update(self, frame: np.ndarray, probs: np.ndarray, prompted: bool = False) -> None:
        self._prev_grey = downscale_grey(frame, self.config.scale)
        self._prev_probs = one_hot(to_slots(probs), probs.shape[0])

    def _fill_occluded(self, warped: np.ndarray, occluded: np.ndarray) -> np.ndarray:
        """warped (H, W, K) full resolution; occluded (h, w) at flow resolution."""
        if not occluded.any():
            return warped
        height, width = warped.shape[:2]
        h, w = occluded.shape
        small = cv2.resize(warped, (w, h), interpolation=cv2.INTER_AREA).reshape(h, w, -1)
        filled = fill_from_neighbours(small, occluded, self.config.fill_size)
        filled = cv2.resize(filled, (width, height), interpolation=cv2.INTER_LINEAR).reshape(warped.shape)
        mask = cv2.resize(occluded.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
        out = warped.copy()
        out[mask] = filled[mask]
        return out


def fill_from_neighbours(values: np.ndarray, invalid: np.ndarray, size: int) -> np.ndarray:
    """Replace ``values`` (H, W, K) at ``invalid`` (HxW bool) by the mean of valid pixels nearby.

    Pixels with no valid neighbour in the ``size`` x ``size`` window keep their own value.
    """
    if not invalid.any():
        return values
    valid = (~invalid).astype(np.float32)
    weights = cv2.boxFilter(valid, -1, (size, size), normalize=False)
    sums = cv2.boxFilter(values * valid[..., None], -1, (size, size), normalize=False).reshape(values.shape)
    has_support = invalid & (weights > 0.5)
    out = values.copy()
    out[has_support] = sums[has_support] / weights[has_support][:, None]
    return out
