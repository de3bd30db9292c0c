"""The click protocol of interactive segmentation benchmarks: simulated clicks, NoC, and the click loop.

DESIGN.md "Measuring": each next click goes at the point farthest from the boundary of the larger error
region (false negatives vs false positives); it is positive on a false negative, negative on a false
positive. NoC@t is the number of clicks needed to reach IoU t, at most 20.

Counting convention used here (and in the README's numbers): the selection box is *not* a click. IoU
values are indexed by clicks made, ``ious[0]`` being the mask from the box alone, so a box whose mask
already reaches the threshold has NoC 0; a run that never reaches it scores ``max_clicks`` (the usual
practice of interactive segmentation papers, which report the cap rather than drop the image).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from vidseg.engine.interactive.clicks import Click
from vidseg.errors import InputError
from vidseg.eval.metrics import region_iou

# Clicks needed before run_clicks may stop early: mean IoU after 1, 3 and 5 clicks needs all five.
MIN_CLICKS_BEFORE_STOP = 5


class ClickModel(Protocol):
    """What run_clicks drives: ours (ClickSegmenter), GrabCut, or a test's fake."""

    def start(self, image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray: ...

    def click(self, x: int, y: int, positive: bool) -> np.ndarray: ...


def next_click(pred: np.ndarray, gt: np.ndarray) -> Click | None:
    """The protocol's next click on ``pred`` for ground truth ``gt``; None when they agree.

    pred, gt: (H, W) bool. The larger of the false negatives (gt & ~pred) and the false positives
    (pred & ~gt) by pixel count is chosen, false negatives on a tie. The click is that region's pixel
    farthest (exact L2) from the region's boundary, the image border counting as boundary; the first
    such pixel in row-major order when several are equally far, so the protocol is deterministic.
    """
    if pred.shape != gt.shape or pred.ndim != 2:
        raise InputError(f"prediction mask is {pred.shape} but ground truth is {gt.shape}; "
                         "pass two 2-D masks of the same height and width")
    pred, gt = pred.astype(bool, copy=False), gt.astype(bool, copy=False)
    false_neg = gt & ~pred
    false_pos = pred & ~gt
    n_neg, n_pos = int(np.count_nonzero(false_neg)), int(np.count_nonzero(false_pos))
    if n_neg == 0 and n_pos == 0:
        return None
    positive = n_neg >= n_pos
    region = false_neg if positive else false_pos
    # Zero padding makes the border count as outside, so a click never hugs the image edge.
    padded = np.pad(region.view(np.uint8), 1)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return Click(int(x), int(y), positive)


def clicks_to_reach(ious: Sequence[float], threshold: float, max_clicks: int = 20) -> int:
    """NoC: the fewest clicks after which IoU >= ``threshold``; ``max_clicks`` when never reached.

    ``ious[k]`` is the IoU after k clicks, ``ious[0]`` the one from the box alone (the box is not a
    click, so a box that suffices gives 0). Only ``ious[0..max_clicks]`` are looked at.
    """
    for k, iou in enumerate(list(ious)[: max_clicks + 1]):
        if iou >= threshold:
            return k
    return max_clicks


@dataclass
class ClickRun:
    """One image's interactive run.

    ``ious``: max_clicks + 1 values, IoU after 0 (box alone) .. max_clicks clicks; after an early stop
    the last measured value is carried forward. ``start_seconds``: latency of the box call.
    ``click_seconds`` and ``clicks``: one entry per click actually made (fewer than max_clicks after an
    early stop).
    """

    ious: list[float]
    start_seconds: float
    click_seconds: list[float] = field(default_factory=list)
    clicks: list[Click] = field(default_factory=list)


def run_clicks(segmenter: ClickModel, image: np.ndarray, gt: np.ndarray, box: tuple[int, int, int, int],
               max_clicks: int = 20, stop_at: float | None = None) -> ClickRun:
    """Box, then up to ``max_clicks`` protocol clicks, each placed on the current mask's errors.

    image: (H, W, 3) uint8 RGB; gt: (H, W) bool; box: (x0, y0, x1, y1), x1 / y1 exclusive.
    Stops early, to save time, once IoU >= ``stop_at`` with at least 5 clicks made (so the IoU after 1,
    3 and 5 clicks is always measured), and when the mask is perfect (no click to make). The remaining
    IoUs then repeat the last one, which is what NoC assumes: the user stops clicking at the threshold.
    NoC at any threshold <= ``stop_at`` is unaffected by stopping; the IoU at later click counts is.
    """
    gt = gt.astype(bool, copy=False)
    began = time.perf_counter()
    mask = segmenter.start(image, box=box)
    run = ClickRun(ious=[region_iou(mask, gt)], start_seconds=time.perf_counter() - began)
    for made in range(max_clicks):
        if stop_at is not None and made >= MIN_CLICKS_BEFORE_STOP and run.ious[-1] >= stop_at:
            break
        click = next_click(mask, gt)
        if click is None:
            break
        began = time.perf_counter()
        mask = segmenter.click(click.x, click.y, click.positive)
        run.click_seconds.append(time.perf_counter() - began)
        run.clicks.append(click)
        run.ious.append(region_iou(mask, gt))
    run.ious += [run.ious[-1]] * (max_clicks + 1 - len(run.ious))
    return run
