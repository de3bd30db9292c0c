"""Optical-flow temporal fusion (seed 001): steady masks from a per-frame model.

For frame t a per-frame model gives "mask 2" (its probabilities). The fused result of frame t-1
("mask 1") is carried into frame t by the backward flow t -> t-1, which gives "mask 3". The two are
mixed per pixel into frame t's target mask, which becomes the next mask 1::

    c = (max_k p2_k - 1/n) / (1 - 1/n)          network confidence, 0 (uniform) .. 1 (one-hot)
    w = prior_weight * reliability * (1 - c)^g  how much mask 3 counts (g = confidence_power, 1)
    fused = (1 - w) * p2 + w * p3, renormalised over the n = K+1 channels

So a confident network is kept as it is, and so is the network wherever the warp is unreliable
(occluded, flow inconsistent, or carried in from outside the image); where the network hesitates
and the warp is trustworthy, the previous result decides, which is what stops boundary flicker.
``prior_weight`` < 1 keeps the network in every pixel, so an error of the prior fades over frames
instead of being carried forever.

Flow is computed once per frame, on grey frames downscaled by ``scale``; the warp itself runs at
full resolution, where the boundary is decided. The flow is handed back to the caller
(:attr:`WarpedPrior.flow`) so that a network that also takes the warped mask does not compute it
again.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidseg.errors import InputError
from vidseg.flow.fill import fill_occluded
from vidseg.ops.images import downscale_grey
from vidseg.ops.slots import pad_slots
from vidseg.flow import (
    FlowConfig,
    backward_warp,
    block_flow,
    dense_flow,
    expand_block_flow,
    forward_backward_occlusion,
    resize_flow,
)


@dataclass(frozen=True)
class FusionConfig:
    """How :class:`FlowFusion` computes flow and mixes masks.

    flow_mode, scale: DIS mode ("ultrafast", "fast", "medium") and the frame scale the flow is computed at (0.5: about 4x faster).
    block: average the flow over ``block`` x ``block`` pixels of the flow grid before warping
        (seed 001's one vector per block; with scale 0.5, block=8 covers 16x16 frame pixels).
        1 warps with the dense flow.
    occlusion: run the forward-backward check (costs a second flow field); without it only
        pixels carried in from outside the image count as unreliable.
    occlusion_margin: grow occluded regions by this many flow-grid pixels, because the check
        misses the thin rim of an occlusion where the flow is smoothed across it.
    fill_size: side, in flow-grid pixels, of the window whose consistent pixels fill mask 3 at
        occlusions.
    prior_weight: the most mask 3 can weigh (uncertain network, reliable warp), in [0, 1].
    confidence_power: how fast the network's confidence takes weight from mask 3:
        w = prior_weight * reliability * (1 - c) ** confidence_power. 1: seed 001's rule; below 1
        mask 3 also counts where the network is fairly sure (a per-frame model that flips whole
        regions with confidence); 0: a plain flow-compensated running mean.
    """

    flow_mode: str = "medium"
    scale: float = 0.5
    block: int = 1
    occlusion: bool = True
    occlusion_margin: int = 2
    fill_size: int = 11
    prior_weight: float = 0.9
    confidence_power: float = 1.0

    def __post_init__(self) -> None:
        FlowConfig(mode=self.flow_mode, scale=self.scale)  # validates both
        if isinstance(self.block, bool) or not isinstance(self.block, int) or self.block < 1:
            raise InputError(f"fusion block must be a positive integer, got {self.block!r}")
        if self.fill_size < 1:
            raise InputError(f"fill_size must be >= 1, got {self.fill_size}")
        if self.occlusion_margin < 0:
            raise InputError(f"occlusion_margin must be >= 0, got {self.occlusion_margin}")
        if not 0.0 <= self.prior_weight <= 1.0:
            raise InputError(f"prior_weight must be in [0, 1], got {self.prior_weight}")
        if not self.confidence_power >= 0.0:
            raise InputError(f"confidence_power must be >= 0, got {self.confidence_power}")


@dataclass(frozen=True)
class WarpedPrior:
    """The previous fused mask carried into the current frame.

    probs: (K+1, H, W) float32, mask 3; sums to 1 per pixel. Pixels carried in from outside the
        image are background; occluded pixels (which the warp would fill with a ghost of what
        covered them) take the labels of consistent pixels nearby, as in the ``flow`` baseline.
    reliability: (H, W) float32 in [0, 1]; 0 where occluded, inconsistent or from outside.
    flow: (h, w, 2) float32 backward flow current -> previous frame on the flow grid (frame size
        times ``scale``), in flow-grid pixels, block-averaged when ``block`` > 1: the flow the
        warp used. ``vidseg.flow.resize_flow(flow, H, W)`` gives it at full resolution.
    """

    probs: np.ndarray
    reliability: np.ndarray
    flow: np.ndarray


class FlowFusion:
    """Per-video fusion state: the previous frame (downscaled grey) and its fused mask.

    Per frame: ``prior = fusion.warp_previous(frame)`` (once :attr:`has_previous`), run the
    network (it may take ``prior.probs`` and ``prior.flow``), ``fused = fusion.fuse(net, prior)``,
    then ``fusion.update(frame, fused)``. On the first frame, just ``update(frame, net)``.
    """

    def __init__(self, config: FusionConfig | None = None) -> None:
        self.config = config or FusionConfig()
        self._flow = FlowConfig(mode=self.config.flow_mode, scale=1.0)  # frames arrive downscaled
        self._prev_grey: np.ndarray | None = None
        self._prev_stack: np.ndarray | None = None  # (H, W, K+1): the K objects, then ones
        self._grey: tuple[np.ndarray, np.ndarray] | None = None  # (frame, its grey) from warp_previous

    @property
    def has_previous(self) -> bool:
        return self._prev_grey is not None

    def reset(self) -> None:
        self._prev_grey = None
        self._prev_stack = None
        self._grey = None

    def warp_previous(self, frame: np.ndarray) -> WarpedPrior:
        """Carry the previous fused mask into ``frame`` (HxWx3 uint8 RGB or HxW uint8 grey)."""
        if self._prev_grey is None or self._prev_stack is None:
            raise RuntimeError("FlowFusion.warp_previous called before any update")
        height, width = self._prev_stack.shape[:2]
        _check_frame(frame, (height, width))
        grey = downscale_grey(frame, self.config.scale)
        self._grey = (frame, grey)  # update() gets the same frame next: no second conversion
        back = dense_flow(grey, self._prev_grey, self._flow)
        occluded = None
        if self.config.occlusion:
            occluded = forward_backward_occlusion(back, dense_flow(self._prev_grey, grey, self._flow))
        if self.config.block > 1:
            k = self.config.block
            back = expand_block_flow(block_flow(back, k), *back.shape[:2], k)
        # The ones channel comes back as 1 inside the image and 0 where the flow points outside.
        warped = backward_warp(self._prev_stack, resize_flow(back, height, width))
        objects, reliability = warped[..., :-1], warped[..., -1]
        if occluded is not None and occluded.any():
            consistent = self._consistent(occluded, height, width)
            if objects.shape[-1]:
                objects = fill_occluded(objects, occluded, self.config.fill_size, keep=consistent)
            reliability = reliability * consistent
        probs = np.empty((objects.shape[-1] + 1, height, width), np.float32)
        probs[1:] = np.moveaxis(objects, -1, 0)
        np.sum(probs[1:], axis=0, out=probs[0])
        np.clip(1.0 - probs[0], 0.0, 1.0, out=probs[0])  # background: what the objects leave
        return WarpedPrior(probs=probs, reliability=reliability, flow=back)

    def fuse(self, network_probs: np.ndarray, warped: WarpedPrior) -> np.ndarray:
        """Target mask from mask 2 (``network_probs``, (K+1, H, W)) and mask 3 (``warped``).

        The network may have more objects than the prior (objects added since): the prior gets
        empty channels for them. Returns (K+1, H, W) float32 summing to 1 (rule in the module
        docstring).
        """
        net = np.asarray(network_probs, dtype=np.float32)
        n = net.shape[0] if net.ndim == 3 else 0
        if net.ndim != 3 or net.shape[1:] != warped.probs.shape[1:] or n < warped.probs.shape[0]:
            raise InputError(
                f"network probabilities {net.shape} do not fit the warped prior {warped.probs.shape}: "
                "expected (K+1, H, W) with the same H, W and at least as many channels; "
                "call reset() when objects are removed"
            )
        prior = pad_slots(warped.probs, n)
        confidence = np.clip((net.max(axis=0) - 1.0 / n) * (n / (n - 1.0)), 0.0, 1.0) if n > 1 else 1.0
        doubt = 1.0 - confidence
        if self.config.confidence_power != 1.0:
            doubt = np.power(doubt, self.config.confidence_power)
        weight = (self.config.prior_weight * warped.reliability) * doubt
        fused = net + weight[None] * (prior - net)
        return _renormalise(fused)

    def update(self, frame: np.ndarray, fused_probs: np.ndarray) -> None:
        """Keep ``frame`` (HxWx3 uint8 RGB or HxW grey) and its fused (K+1, H, W) mask for the next frame."""
        probs = np.asarray(fused_probs, dtype=np.float32)
        if probs.ndim != 3 or probs.shape[0] < 1:
            raise InputError(f"fused probabilities must be (K+1, H, W), got shape {probs.shape}")
        _check_frame(frame, probs.shape[1:])
        stack = np.empty((*probs.shape[1:], probs.shape[0]), np.float32)
        stack[..., :-1] = np.moveaxis(probs[1:], 0, -1)
        stack[..., -1] = 1.0
        self._prev_stack = stack
        cached, self._grey = self._grey, None
        self._prev_grey = cached[1] if cached is not None and cached[0] is frame else downscale_grey(frame, self.config.scale)

    def _consistent(self, occluded: np.ndarray, height: int, width: int) -> np.ndarray:
        """occluded (h, w) bool on the flow grid -> (H, W) float32: 0 on occlusions grown by the
        margin, 1 elsewhere, bilinear in between."""
        margin = self.config.occlusion_margin
        bad = occluded.astype(np.uint8)
        if margin:
            bad = cv2.dilate(bad, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
        return cv2.resize(1.0 - bad.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def _check_frame(frame: np.ndarray, size: tuple[int, int]) -> None:
    if frame.ndim not in (2, 3) or tuple(frame.shape[:2]) != tuple(size):
        raise InputError(f"frame has shape {frame.shape} but the masks are {tuple(size)}; frames must not change size")


def _renormalise(probs: np.ndarray) -> np.ndarray:
    """(n, H, W) non-negative -> sums to 1 per pixel; all-zero pixels become uniform."""
    total = probs.sum(axis=0, keepdims=True)
    empty = total <= 1e-6
    if empty.any():
        probs = np.where(empty, 1.0 / probs.shape[0], probs)
        total = np.where(empty, 1.0, total)
    return (probs / total).astype(np.float32, copy=False)
