"""Follow one object from a box with the polar tracker (seed 004): a box and an outline per frame.

Per frame, the search crop (``TrackerOptions.search`` pixels, about twice the template's context)
is cut around where the object was; the network scores every location of its map. The chosen
location maximises the score after two penalties (SiamRPN's): a cosine window that prefers small
motion, and one that prefers small changes of size and aspect ratio. Its box gives the new box
(size smoothed); its rays, scaled back to the frame, give the outline: the n end points joined and
filled are the mask.

Lost and found: when the best raw score falls below ``lost_below`` (the object left the frame or is
hidden), the object is reported lost (no box, empty mask). While lost, every frame is searched as
a whole at the object's last scale (the network is fully convolutional, so one pass covers the
frame), and the object is taken up again where the score reaches ``found_above``.

Template update (optional): on confident frames the correlation kernel moves towards the kernel of
the object as it looks now, ``kernel = (1 - a) kernel + a new``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from vidseg.engine.track.outlines import polygon_mask, ray_polygon
from vidseg.errors import InputError
from vidseg.nn.polar import FEATURE_STRIDE, MAX_RAYS, MIN_RAYS, PolarTrackerNet, context_side, location_grid
from vidseg.ops.boxes import Box, check_box
from vidseg.ops.crops import CropWindow, cut_smooth

_WHOLE_FRAME_MAX_SIDE = 640  # px: the re-detection pass's input is capped, so being lost stays affordable
_MIN_SIZE = 4.0  # px: the smallest box side kept


@dataclass(frozen=True)
class TrackerOptions:
    """rays: points of the outline (None: the network's own n; another number resamples its rays
    around the circle). search: side of the search crop in network pixels (a multiple of 16; None:
    the network's; larger follows faster motion, at more cost). template_update: a, the share of
    the kernel replaced on confident frames (0: the first frame's template only). The rest are the
    tracking rules described in the module docstring."""

    rays: int | None = None
    search: int | None = None
    template_update: float = 0.0
    update_above: float = 0.8
    # Chosen with the Lite0 train-split network on training data only: the 24 TRAIN sequences (0.3 / 0.45:
    # AUC 74.7 / 74.7) and 16 clips of tracking footage from training photos (53.6 / 51.2; 0.6: 47.4).
    window_influence: float = 0.3
    size_penalty: float = 0.1
    size_rate: float = 0.6
    lost_below: float = 0.25
    found_above: float = 0.5

    def __post_init__(self) -> None:
        if self.rays is not None and (isinstance(self.rays, bool) or not MIN_RAYS <= self.rays <= MAX_RAYS):
            raise InputError(f"rays is {self.rays}; an outline takes {MIN_RAYS} to {MAX_RAYS} rays")
        if self.search is not None and (self.search % 16 or self.search < 128):
            raise InputError(f"search is {self.search}; use a multiple of 16 of at least 128 (e.g. 192, 256)")
        if not 0 <= self.template_update <= 1:
            raise InputError(f"template update is {self.template_update}; use a share from 0 to 1")


@dataclass(frozen=True)
class TrackResult:
    """One frame: ``box`` (x0, y0, x1, y1) in pixels, or None when the object is lost; ``score`` the
    network's confidence (0..1) at the chosen location; ``polygon`` (n, 2) float (x, y) outline or
    None."""

    box: Box | None
    score: float
    polygon: np.ndarray | None

    @property
    def lost(self) -> bool:
        return self.box is None

    def mask(self, height: int, width: int) -> np.ndarray:
        """(H, W) bool: the filled outline (all False when lost)."""
        return polygon_mask(self.polygon, height, width)


@dataclass
class _State:
    centre: np.ndarray  # (2,) x, y in frame pixels
    size: np.ndarray    # (2,) w, h
    kernel: torch.Tensor
    lost: bool = False
    cache: dict = field(default_factory=dict)


def load_tracker(model: str | Path | PolarTrackerNet = "default", backend: str = "auto") -> PolarTrackerNet:
    """The network: a shipped tag ("default", "train-split", "separable"), a checkpoint path, or a network as it is; run
    by ``backend`` ("torch" or "onnxruntime", :func:`vidseg.nn.registry.as_backend`)."""
    from vidseg.nn.registry import as_backend, load_model

    if isinstance(model, (str, Path)):
        model = load_model("tracker", model)  # a shipped tag or a checkpoint path
    return as_backend("tracker", model.eval(), backend)  # a stand-in already built stays as it is


class PolarTracker:
    """``start(frame, box)`` then ``step(frame)`` per following frame; frames (H, W, 3) uint8 RGB,
    boxes :class:`Box` (x0, y0, x1, y1) in pixels."""

    def __init__(self, model: str | Path | PolarTrackerNet = "default", options: TrackerOptions | None = None,
                 backend: str = "auto") -> None:
        self.net = load_tracker(model, backend)
        self.options = options or TrackerOptions()
        cfg = self.net.config
        self.search = self.options.search or cfg.search
        self.rays = self.options.rays or cfg.rays
        self._state: _State | None = None
        size = self.search // FEATURE_STRIDE - cfg.kernel + 1
        grid = location_grid(size, cfg.kernel).numpy()
        self._grid = np.stack(np.meshgrid(grid, grid), -1)  # (M, M, 2) x, y of each location
        hann = np.hanning(size + 2)[1:-1]
        self._window = np.outer(hann, hann)

    # -- public -----------------------------------------------------------------------------

    @torch.no_grad()
    def start(self, frame: np.ndarray, box: Box) -> TrackResult:
        """Take the object in ``box`` on ``frame`` as the target; returns the given box with the
        outline the network sees in it."""
        box = check_box(box, frame.shape[1], frame.shape[0])
        x, y, w, h = box.to_xywh()
        centre, size = np.array([x + w / 2 - 0.5, y + h / 2 - 0.5]), np.array([w, h], float)
        side = context_side(w, h, self.net.config.context)
        template = cut_smooth(frame, CropWindow.centred(*centre, side), self.net.config.template)
        self._state = _State(centre, size, self.net.template_kernel(_tensor(template)))
        result = self._search(frame, update_box=False)
        return TrackResult(box, result.score, result.polygon)

    @torch.no_grad()
    def step(self, frame: np.ndarray) -> TrackResult:
        """The object on the next frame (lost: ``box`` None)."""
        if self._state is None:
            raise RuntimeError("call start(frame, box) before step(frame)")
        if self._state.lost:
            return self._redetect(frame)
        result = self._search(frame, update_box=True)
        if result.lost:
            self._state.lost = True
        elif self.options.template_update > 0 and result.score >= self.options.update_above:
            self._update_template(frame)
        return result

    # -- one frame --------------------------------------------------------------------------

    def _search(self, frame: np.ndarray, update_box: bool) -> TrackResult:
        """The best location in the search crop around the last place; with ``update_box``, the
        tracked box follows it (or the result is lost)."""
        s, o = self._state, self.options
        side = context_side(*s.size, self.net.config.context) * self.search / self.net.config.template
        window = CropWindow.centred(*s.centre, side)
        out = self.net.track(s.kernel, _tensor(cut_smooth(frame, window, self.search)))
        score = torch.sigmoid(out.score[0, 0]).numpy()
        boxes = out.box[0].permute(1, 2, 0).numpy()          # (M, M, 4) l, t, r, b in crop px
        scale = side / self.search
        sizes = np.stack([boxes[..., 0] + boxes[..., 2], boxes[..., 1] + boxes[..., 3]], -1) * scale
        penalty = _size_penalty(sizes, s.size, o.size_penalty)
        ranked = score * penalty * (1 - o.window_influence) + self._window * o.window_influence
        i, j = np.unravel_index(int(np.argmax(ranked)), ranked.shape)
        raw = float(score[i, j])
        result = self._result(window, scale, boxes[i, j], out.rays[0, :, i, j].numpy(), self._grid[i, j], raw)
        if not update_box:  # the first frame: the box is given, only the outline is wanted
            return result
        if raw < o.lost_below or not _overlaps_frame(result.box, frame.shape):
            return TrackResult(None, raw, None)
        # The centre moves to the location's box; the size only part of the way (smoothing).
        rate = o.size_rate * penalty[i, j] * raw
        x, y, w, h = result.box.to_xywh()
        s.size = np.maximum((1 - rate) * s.size + rate * np.array([w, h]), _MIN_SIZE)
        s.centre = np.clip(np.array([x + w / 2 - 0.5, y + h / 2 - 0.5]), 0, [frame.shape[1] - 1, frame.shape[0] - 1])
        w, h = s.size
        return TrackResult(Box.from_xywh(s.centre[0] - w / 2 + 0.5, s.centre[1] - h / 2 + 0.5, w, h), raw,
                           result.polygon)

    def _redetect(self, frame: np.ndarray) -> TrackResult:
        """Search the whole frame at the object's last scale; found when the score is high enough."""
        found = self.search_frame(frame, count=1)
        if not found or found[0].score < self.options.found_above:
            return TrackResult(None, found[0].score if found else 0.0, None)
        self.place(found[0].box)
        return found[0]

    @torch.no_grad()
    def search_frame(self, frame: np.ndarray, count: int = 1) -> list[TrackResult]:
        """Up to ``count`` candidates for the object anywhere in ``frame``, best score first.

        The whole frame is searched at the object's last scale (one pass: the network is fully
        convolutional); candidates are score peaks at least a third of the object's size apart,
        each with its box and outline. The tracker's state is left as it is (see :meth:`place`)."""
        if self._state is None:
            raise RuntimeError("call start(frame, box) before search_frame(frame)")
        s = self._state
        side = context_side(*s.size, self.net.config.context) * self.search / self.net.config.template
        factor = min(self.search / side, _WHOLE_FRAME_MAX_SIDE / max(frame.shape[:2]))
        h, w = frame.shape[:2]
        small_w, small_h = max(1, round(w * factor)), max(1, round(h * factor))
        pad_w, pad_h = (max(self.search, -(-small_w // 16) * 16), max(self.search, -(-small_h // 16) * 16))
        canvas = np.zeros((pad_h, pad_w, 3), np.uint8)
        canvas[:small_h, :small_w] = cv2.resize(frame, (small_w, small_h), interpolation=cv2.INTER_AREA)
        out = self.net.track(s.kernel, _tensor(canvas))
        score = torch.sigmoid(out.score[0, 0]).numpy()
        grid = location_grid(max(score.shape), self.net.config.kernel).numpy()
        # Locations whose point lies in the padding are not the frame.
        score[grid[:score.shape[0]] > small_h, :] = 0
        score[:, grid[:score.shape[1]] > small_w] = 0
        # The padded canvas as a window: canvas pixel c is frame pixel (c + 0.5) / factor - 0.5.
        window = CropWindow(0.0, 0.0, pad_w / factor)
        apart = max(1, round(min(s.size) * factor / 3 / FEATURE_STRIDE))  # locations
        results = []
        for i, j in _peaks(score, count, apart):
            result = self._result(window, 1 / factor, out.box[0, :, i, j].numpy(), out.rays[0, :, i, j].numpy(),
                                  np.array([grid[j], grid[i]]), float(score[i, j]), crop_size=pad_w)
            if _overlaps_frame(result.box, frame.shape):
                results.append(result)
        return results

    def place(self, box: Box) -> None:
        """Take ``box`` (x0, y0, x1, y1) as where the object is now (e.g. from another method's mask):
        the next :meth:`step` searches around it. The template stays."""
        if self._state is None:
            raise RuntimeError("call start(frame, box) before place(box)")
        x, y, w, h = (float(v) for v in box.to_xywh())
        s = self._state
        s.centre, s.size, s.lost = np.array([x + w / 2 - 0.5, y + h / 2 - 0.5]), np.maximum([w, h], _MIN_SIZE), False

    def _result(self, window: CropWindow, scale: float, ltrb: np.ndarray, rays: np.ndarray, point: np.ndarray,
                score: float, crop_size: int | None = None) -> TrackResult:
        """The box and outline of one location, in frame pixels."""
        origin = window.to_image_points(point[None], crop_size or self.search)[0]
        left, top, right, bottom = ltrb * scale
        box = Box.from_xywh(origin[0] - left + 0.5, origin[1] - top + 0.5, left + right, top + bottom)
        return TrackResult(box, score, ray_polygon(origin, rays, self.rays, scale))

    def _update_template(self, frame: np.ndarray) -> None:
        s, a = self._state, self.options.template_update
        side = context_side(*s.size, self.net.config.context)
        template = cut_smooth(frame, CropWindow.centred(*s.centre, side), self.net.config.template)
        s.kernel = (1 - a) * s.kernel + a * self.net.template_kernel(_tensor(template))


# ---------------------------------------------------------------------------------------------



def _size_penalty(sizes: np.ndarray, size: np.ndarray, k: float) -> np.ndarray:
    """SiamRPN's penalty on change of scale and aspect ratio: exp(-k (r s - 1)), (M, M)."""
    def change(r: np.ndarray) -> np.ndarray:
        return np.maximum(r, 1 / r)

    def padded(w: np.ndarray, h: np.ndarray) -> np.ndarray:
        p = (w + h) / 2
        return np.sqrt((w + p) * (h + p))

    w, h = np.maximum(sizes[..., 0], 1e-3), np.maximum(sizes[..., 1], 1e-3)
    s = change(padded(w, h) / padded(*size))
    r = change((size[0] / size[1]) / (w / h))
    return np.exp(-k * (r * s - 1))


def _peaks(score: np.ndarray, count: int, apart: int) -> list[tuple[int, int]]:
    """(row, col) of up to ``count`` highest locations of ``score`` (M, N), each more than ``apart``
    locations (Chebyshev) from a higher one; zero scores are never peaks."""
    score = score.copy()
    peaks = []
    while len(peaks) < count:
        i, j = np.unravel_index(int(np.argmax(score)), score.shape)
        if score[i, j] <= 0:
            break
        peaks.append((int(i), int(j)))
        score[max(0, i - apart) : i + apart + 1, max(0, j - apart) : j + apart + 1] = 0
    return peaks


def _overlaps_frame(box: Box | None, shape: tuple[int, ...]) -> bool:
    if box is None:
        return False
    return box.x0 < shape[1] and box.y0 < shape[0] and box.x1 > 0 and box.y1 > 0


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.multiply(image.transpose(2, 0, 1)[None], np.float32(1 / 255), dtype=np.float32))
