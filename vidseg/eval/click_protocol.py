"""The click protocol of interactive segmentation benchmarks: simulated clicks, NoC, and the click loop.

DESIGN.md "Measuring": each next click goes at the point farthest from the boundary of the larger error
region (false negatives vs false positives); it is positive on a false negative, negative on a false
positive. "Larger" is read as the published evaluations read it, whose numbers DESIGN.md wants ours
to compare with: the error whose farthest pixel lies farther inside it (see :func:`next_click`).
NoC@t is the number of clicks needed to reach IoU t, at most 20.

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


def next_click(pred: np.ndarray, gt: np.ndarray, clicked: Sequence[Click] = ()) -> Click | None:
    """The protocol's next click on ``pred`` for ground truth ``gt``; None when they agree.

    pred, gt: (H, W) bool. As in the published evaluations (Xu et al. 2016; RITM, FocalClick and
    SimpleClick's ``Clicker``): each error (false negatives gt & ~pred, false positives pred & ~gt)
    gets its exact L2 distance from its own boundary, the image border counting as boundary, and
    the click goes to the farther of the two errors' farthest pixels: positive on a false negative,
    negative on a false positive, negative on a tie, as theirs (``fn_max_dist > fp_max_dist``). The
    first such pixel in row-major order wins, so the protocol is deterministic. Pixels already
    ``clicked`` are never chosen again (their ``not_clicked_map``); an error made of clicked pixels
    alone gives None. "Larger" is thus the thicker error, not the one with more pixels: a thin line
    missed along a long outline loses to a blob half its size.
    """
    if pred.shape != gt.shape or pred.ndim != 2:
        raise InputError(f"prediction mask is {pred.shape} but ground truth is {gt.shape}; "
                         "pass two 2-D masks of the same height and width")
    pred, gt = pred.astype(bool, copy=False), gt.astype(bool, copy=False)
    dist_neg, dist_pos = _inner_distance(gt & ~pred), _inner_distance(pred & ~gt)
    height, width = pred.shape
    for click in clicked:  # after the transform, as theirs: a clicked pixel moves no distance
        x, y = round(click.x), round(click.y)  # training's first clicks may be sub-pixel points
        if 0 <= x < width and 0 <= y < height:
            dist_neg[y, x] = dist_pos[y, x] = 0
    far_neg, far_pos = float(dist_neg.max()), float(dist_pos.max())
    if far_neg == 0 and far_pos == 0:
        return None
    positive = far_neg > far_pos
    y, x = np.unravel_index(int(np.argmax(dist_neg if positive else dist_pos)), pred.shape)
    return Click(int(x), int(y), positive)


class Clicker:
    """One image's protocol clicks, remembered so that no pixel is clicked twice (RITM's ``Clicker``).

    ``Clicker(gt)`` for ground truth ``gt`` (H, W) bool; ``next(pred)`` gives the next click on the
    current mask ``pred`` (:func:`next_click`) and records it in ``clicks``; None when none is left.
    """

    def __init__(self, gt: np.ndarray) -> None:
        self.gt = gt.astype(bool, copy=False)
        self.clicks: list[Click] = []

    def next(self, pred: np.ndarray) -> Click | None:
        click = next_click(pred, self.gt, self.clicks)
        if click is not None:
            self.clicks.append(click)
        return click


def _inner_distance(region: np.ndarray) -> np.ndarray:
    """Each pixel of ``region`` (H, W) bool: its exact L2 distance (H, W) float32 to the nearest
    pixel outside it, zero outside. Zero padding makes the image border count as outside, so a
    click never hugs the image edge."""
    padded = np.pad(region.view(np.uint8), 1)
    return cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]


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
    3 and 5 clicks is always measured), and when no click is left to make (the mask is perfect, or
    wrong only at pixels already clicked). The remaining IoUs then repeat the last one, which is
    what NoC assumes: the user stops clicking at the threshold. NoC at any threshold <= ``stop_at``
    is unaffected by stopping; the IoU at later click counts is.
    """
    clicker = Clicker(gt)
    began = time.perf_counter()
    mask = segmenter.start(image, box=box)
    # The run's click list is the clicker's own: every click it hands out is one the run made.
    run = ClickRun(ious=[region_iou(mask, clicker.gt)], start_seconds=time.perf_counter() - began,
                   clicks=clicker.clicks)
    for made in range(max_clicks):
        if stop_at is not None and made >= MIN_CLICKS_BEFORE_STOP and run.ious[-1] >= stop_at:
            break
        click = clicker.next(mask)
        if click is None:
            break
        began = time.perf_counter()
        mask = segmenter.click(click.x, click.y, click.positive)
        run.click_seconds.append(time.perf_counter() - began)
        run.ious.append(region_iou(mask, clicker.gt))
    run.ious += [run.ious[-1]] * (max_clicks + 1 - len(run.ious))
    return run
