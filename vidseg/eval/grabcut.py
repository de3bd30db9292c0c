"""OpenCV GrabCut driven like our click segmenter: the baseline of the interactive benchmark.

``GrabCutSegmenter`` has the interface :func:`vidseg.eval.click_protocol.run_clicks` drives: ``start``
with a box, then ``click`` corrections. A click marks a disk of radius 5 as sure foreground (GC_FGD) or
sure background (GC_BGD) in GrabCut's label mask, and GrabCut reruns with GC_INIT_WITH_MASK from that
mask, which still holds the previous result's probable labels: OpenCV refits its colour models from it,
as its own interactive sample does.

For speed at 854x480, GrabCut sees only a region of interest (ROI): the box grown by 25% of its width
and height on each side, clipped to the image. Pixels outside the ROI are background, as pixels
outside the rectangle are in GrabCut's rect mode anyway, so the ROI changes the result only through
the background colour model, which is fitted on the ring around the box rather than on the whole
image. A positive click beyond the ROI grows it to take the click in (with the same margins); the
newly taken pixels start as probable background, so GrabCut may extend the object there.
"""

from __future__ import annotations

import cv2
import numpy as np

from vidseg.engine.interactive.clicks import check_click
from vidseg.errors import InputError
from vidseg.ops.boxes import Box, check_box

# Regions here are whole pixels x0, y0, x1, y1 (Box.pixels), x1 and y1 exclusive.
Pixels = tuple[int, int, int, int]

CLICK_RADIUS = 5
# OpenCV's GrabCut fits 5-component colour mixtures; k-means needs at least that many pixels of each.
_GMM_COMPONENTS = 5


class GrabCutSegmenter:
    """Box-then-clicks segmentation with ``cv2.grabCut`` on a region of interest around the box.

    iterations: GrabCut iterations per call (start and each click). margin: the ROI is the box grown
    by this fraction of its width / height on each side. Results are deterministic: OpenCV's random
    generator (used by its k-means) is reseeded before each call.
    """

    def __init__(self, iterations: int = 3, margin: float = 0.25, click_radius: int = CLICK_RADIUS) -> None:
        if iterations < 1:
            raise InputError(f"iterations is {iterations}; give 1 or more")
        self.iterations = iterations
        self.margin = margin
        self.click_radius = click_radius
        self._bgr: np.ndarray | None = None
        self._labels = np.zeros((0, 0), np.uint8)  # (H, W) GrabCut classes over the whole image
        self._roi: Pixels = (0, 0, 0, 0)
        self._pad = (0, 0)  # ROI margins in pixels (x, y), from the box

    def start(self, image: np.ndarray, box: Box) -> np.ndarray:
        """Segment the object in ``box`` (x0, y0, x1, y1; x1 / y1 exclusive) of ``image``.

        image: (H, W, 3) uint8 RGB. Returns (H, W) bool.
        """
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(f"image is {image.dtype} {image.shape}; give an (H, W, 3) uint8 RGB image")
        h, w = image.shape[:2]
        x0, y0, x1, y1 = check_box(box, w, h).pixels(w, h)
        self._bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        self._pad = (int(np.ceil(self.margin * (x1 - x0))), int(np.ceil(self.margin * (y1 - y0))))
        self._roi = self._grown((x0, y0, x1, y1))
        # Exactly what GC_INIT_WITH_RECT sets up (sure background around, probable foreground inside);
        # built by hand so that the same path also serves the clicks and the degenerate cases.
        self._labels = np.full((h, w), cv2.GC_BGD, np.uint8)
        self._labels[y0:y1, x0:x1] = cv2.GC_PR_FGD
        return self._run()

    def click(self, x: int, y: int, positive: bool) -> np.ndarray:
        """Mark a disk of radius ``click_radius`` at (x, y) as sure foreground / background and rerun.

        Returns the corrected (H, W) bool mask.
        """
        if self._bgr is None:
            raise InputError("click before start; call start(image, box=...) first")
        h, w = self._labels.shape
        x, y = check_click(x, y, w, h)
        r = self.click_radius
        if positive:
            self._take_into_roi((x - r, y - r, x + r + 1, y + r + 1))
        ya, yb, xa, xb = max(0, y - r), min(h, y + r + 1), max(0, x - r), min(w, x + r + 1)
        yy, xx = np.ogrid[ya:yb, xa:xb]
        inside = (xx - x) ** 2 + (yy - y) ** 2 <= r * r  # the disk, clipped to the image
        self._labels[ya:yb, xa:xb][inside] = cv2.GC_FGD if positive else cv2.GC_BGD
        return self._run()

    # --- internals -------------------------------------------------------------------------------

    def _grown(self, box: Pixels) -> Pixels:
        """``box`` grown by the ROI margins, clipped to the image."""
        h, w = self._bgr.shape[:2]
        px, py = self._pad
        return max(0, box[0] - px), max(0, box[1] - py), min(w, box[2] + px), min(h, box[3] + py)

    def _take_into_roi(self, area: Pixels) -> None:
        """Grow the ROI to cover ``area`` plus margins when it does not yet; new pixels: probable background."""
        x0, y0, x1, y1 = self._roi
        if area[0] >= x0 and area[1] >= y0 and area[2] <= x1 and area[3] <= y1:
            return
        ax0, ay0, ax1, ay1 = self._grown(area)
        grown = (min(x0, ax0), min(y0, ay0), max(x1, ax1), max(y1, ay1))
        old = self._labels[y0:y1, x0:x1].copy()
        self._labels[grown[1] : grown[3], grown[0] : grown[2]] = cv2.GC_PR_BGD
        self._labels[y0:y1, x0:x1] = old
        self._roi = grown

    def _run(self) -> np.ndarray:
        """GrabCut on the ROI from the current labels; writes them back and returns the (H, W) bool mask."""
        x0, y0, x1, y1 = self._roi
        labels = np.ascontiguousarray(self._labels[y0:y1, x0:x1])
        is_fg = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
        n_fg = int(np.count_nonzero(is_fg))
        # Too few pixels of one side to fit its colour model: nothing for GrabCut to decide, the
        # labels stand (e.g. a box filling the whole image, or a negative click erasing all foreground).
        if _GMM_COMPONENTS <= n_fg <= is_fg.size - _GMM_COMPONENTS:
            cv2.setRNGSeed(0)
            bgd_model = np.zeros((1, 65), np.float64)
            fgd_model = np.zeros((1, 65), np.float64)
            labels, _, _ = cv2.grabCut(np.ascontiguousarray(self._bgr[y0:y1, x0:x1]), labels, None,
                                       bgd_model, fgd_model, self.iterations, cv2.GC_INIT_WITH_MASK)
            self._labels[y0:y1, x0:x1] = labels
        return (self._labels == cv2.GC_FGD) | (self._labels == cv2.GC_PR_FGD)
