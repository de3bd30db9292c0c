"""Training samples for the polar tracker: a template crop and a search crop from one sequence.

A sample is two frames of one object (any two frames of a sequence, up to ``max_gap`` apart, either
order), or a synthetic pair (an object cut out and moved over another sequence's frame,
:func:`~vidseg.train.composite.composite_clip`). The template is cut around the object's box on the
first frame with context (:func:`~vidseg.nn.polar.context_side`), a little off as a tracker's own
box would be; the search crop around the second, shifted and zoomed as the object would have moved
since the last frame. Strong augmentation: colour per crop, mirror, grey, blur. A share of samples
are negatives: the search crop shows another sequence, the score map must stay low there (this is
what lets the tracker report an object as lost).

Targets on the score map (see :mod:`vidseg.nn.polar`): positive locations lie near the object box's
centre, a ring around them is ignored, the rest are negative; at each positive location the box
distances and the rays of the object's contour seen from it (:func:`contour_rays`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from vidseg.nn.polar import PolarTrackerConfig, context_side, location_grid, ray_angles
from vidseg.ops.boxes import Box
from vidseg.ops.crops import CropWindow, cut, cut_smooth
from vidseg.train import augment
from vidseg.train.clips import FrameStore, SeededSamples, pick_object
from vidseg.train.composite import composite_clip

_ATTEMPTS = 30


@dataclass(frozen=True)
class TrackerSampleConfig:
    """max_gap: largest frame distance of a real pair. synthetic_ratio: share of composite pairs;
    negative_ratio: share of pairs whose search crop does not show the object. shift: largest
    offset of the object from the search crop's centre, in search pixels. zoom: largest log-scale
    change of the search crop. box_jitter: error of the template's box (share of its size).
    positive_radius: positive locations lie within this share of the box's half-size of its centre
    (at least one stride)."""

    model: PolarTrackerConfig = PolarTrackerConfig()
    max_gap: int = 40
    synthetic_ratio: float = 0.25
    negative_ratio: float = 0.1
    shift: float = 48.0
    zoom: float = 0.3
    box_jitter: float = 0.05
    positive_radius: float = 0.3
    min_pixels: int = 100
    seed: int = 0


class TrackerTrainingSet(SeededSamples):
    """``length`` samples from ``store``; item i is the same for the same (config.seed, i).

    Items (T, S: template and search sides; M: map side; n: rays): ``template`` (3, T, T) and
    ``search`` (3, S, S) float RGB in [0, 1]; ``positive`` and ``valid`` (1, M, M) bool;
    ``box`` (4, M, M) and ``rays`` (n, M, M) float distances in search pixels (zero off the positives).
    """

    def __init__(self, store: FrameStore, config: TrackerSampleConfig | None = None, length: int = 10000) -> None:
        super().__init__(store, config or TrackerSampleConfig(), length)

    def sample(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        c, m = self.config, self.config.model
        negative = rng.random() < c.negative_ratio
        frames, masks, seq = self._pair(rng, synthetic_ok=not negative)
        template_box = _jitter_box(rng, Box.from_mask(masks[0]).to_xywh(), c.box_jitter)
        side = context_side(template_box[2], template_box[3], m.context)
        template = cut_smooth(frames[0], CropWindow.centred(*_centre(template_box), side), m.template)
        if negative:
            other = self.store.frames[_other_sequence(rng, len(self.store), seq)]
            other = other[int(rng.integers(len(other)))]
            window = CropWindow.centred(rng.uniform(0, other.shape[1]), rng.uniform(0, other.shape[0]),
                                        side * m.search / m.template * np.exp(rng.uniform(-c.zoom, c.zoom)))
            search, search_mask = cut_smooth(other, window, m.search), np.zeros((m.search, m.search), np.uint8)
        else:
            search_box = Box.from_mask(masks[1]).to_xywh()
            scale = side * m.search / m.template * np.exp(rng.uniform(-c.zoom, c.zoom))
            offset = rng.uniform(-c.shift, c.shift, 2) * scale / m.search
            cx, cy = _centre(search_box)
            window = CropWindow.centred(cx - offset[0], cy - offset[1], scale)
            search, search_mask = cut_smooth(frames[1], window, m.search), cut(masks[1], window, m.search, cv2.INTER_NEAREST)
        template, search, search_mask = _augment(rng, template, search, search_mask)
        targets = map_targets(search_mask, m, c.positive_radius)
        return {"template": _to_tensor(template), "search": _to_tensor(search),
                **{k: torch.from_numpy(v) for k, v in targets.items()}}

    def _pair(self, rng: np.random.Generator, synthetic_ok: bool = True
              ) -> tuple[list[np.ndarray], list[np.ndarray], int | None]:
        """Two frames (H, W, 3) uint8, the object's masks (H, W) uint8 {0, 1} on them, and the
        sequence they come from (None for a composite)."""
        c = self.config
        if synthetic_ok and rng.random() < c.synthetic_ratio:
            h, w = self.store.frames[0].shape[1:3]
            clip = composite_clip(rng, self.store, self.areas, (h, w), (0.7, 1.3), c.min_pixels)
            if clip is not None and np.count_nonzero(clip[1][2]) >= c.min_pixels:
                return [clip[0][0], clip[0][2]], [clip[1][0], clip[1][2]], None
        for _ in range(_ATTEMPTS):
            seq = int(rng.integers(len(self.store)))
            picked = pick_object(rng, self.areas[seq], c.min_pixels)
            if picked is None:
                continue
            t, obj = picked
            n = len(self.store.frames[seq])
            lo, hi = max(0, t - c.max_gap), min(n - 1, t + c.max_gap)
            t2 = int(rng.integers(lo, hi + 1))
            if self.areas[seq][t2, obj] >= c.min_pixels:
                return ([self.store.frames[seq][t], self.store.frames[seq][t2]],
                        [(self.store.masks[seq][k] == obj).astype(np.uint8) for k in (t, t2)], seq)
        raise RuntimeError("could not draw a frame pair showing an object twice; check the masks")


def map_targets(mask: np.ndarray, model: PolarTrackerConfig, positive_radius: float) -> dict[str, np.ndarray]:
    """Score-map targets for the object ``mask`` (S, S) uint8 {0, 1} of a search crop (all negative
    when it is empty): ``positive``, ``valid`` (1, M, M) bool, ``box`` (4, M, M), ``rays`` (n, M, M)."""
    size = mask.shape[0] // 8 - model.kernel + 1
    grid = location_grid(size, model.kernel).numpy()
    xs, ys = np.meshgrid(grid, grid)
    out = {"positive": np.zeros((1, size, size), bool), "valid": np.ones((1, size, size), bool),
           "box": np.zeros((4, size, size), np.float32), "rays": np.zeros((model.rays, size, size), np.float32)}
    if not mask.any():
        return out
    x, y, w, h = cv2.boundingRect(mask)
    cx, cy = x + w / 2 - 0.5, y + h / 2 - 0.5
    rx, ry = max(positive_radius * w / 2, 8.0), max(positive_radius * h / 2, 8.0)
    reach = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2
    positive = reach <= 1
    out["positive"][0] = positive
    out["valid"][0] = positive | (reach > 4)  # the ring between is neither: a centre a cell off is not wrong
    ii, jj = np.nonzero(positive)
    px, py = xs[ii, jj], ys[ii, jj]
    # Box sides as pixel edges (x - 0.5 .. x + w - 0.5) seen from pixel-centre locations.
    out["box"][:, ii, jj] = np.stack([px - (x - 0.5), py - (y - 0.5), x + w - 0.5 - px, y + h - 0.5 - py])
    out["rays"][:, ii, jj] = contour_rays(mask, np.stack([px, py], 1), model.rays).T
    return out


def contour_rays(mask: np.ndarray, origins: np.ndarray, rays: int) -> np.ndarray:
    """The object's contour in polar coordinates about each origin: (P, n) ray lengths, px.

    mask (H, W) uint8 {0, 1}; origins (P, 2) float (x, y). The outer contours (through boundary
    pixel centres, closed) are converted from x-y to polar coordinates exactly at the ray angles
    2*pi*i/n: ray i's length is the farthest point where it crosses a contour segment, plus half a
    pixel (to the pixel's outer edge). A ray that crosses no contour (an origin outside the object,
    looking away from it) has length 0. All zeros when the mask is empty.
    """
    origins = np.asarray(origins, np.float64).reshape(-1, 2)
    out = np.zeros((len(origins), rays))
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours or len(origins) == 0:
        return out.astype(np.float32)
    starts = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float64)
    ends = np.concatenate([np.roll(c.reshape(-1, 2), -1, axis=0) for c in contours]).astype(np.float64)
    angles = ray_angles(rays)
    u = np.stack([np.cos(angles), np.sin(angles)], 1)            # (n, 2)
    seg = ends - starts                                          # (K, 2)
    denom = u[:, None, 0] * seg[None, :, 1] - u[:, None, 1] * seg[None, :, 0]   # (n, K): cross(u, seg)
    for p, origin in enumerate(origins):
        rel = starts - origin                                    # (K, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (rel[:, 0] * seg[:, 1] - rel[:, 1] * seg[:, 0])[None] / denom                 # along the ray
            s = (rel[None, :, 0] * u[:, None, 1] - rel[None, :, 1] * u[:, None, 0]) / denom   # along the segment
        hit = (denom != 0) & (t >= 0) & (s >= -1e-9) & (s <= 1 + 1e-9)
        if hit.any():
            out[p] = np.where(hit, t, -np.inf).max(1)
    # Contour points are pixel centres: the object reaches half a pixel further.
    return np.where(out > 0, out + 0.5, 0.0).astype(np.float32)


def _other_sequence(rng: np.random.Generator, count: int, seq: int | None) -> int:
    """A random sequence other than ``seq`` (any when there is only one: its other frames then
    serve, which may show the object; stores of one sequence are for tests)."""
    if count == 1 or seq is None:
        return int(rng.integers(count))
    return (seq + 1 + int(rng.integers(count - 1))) % count


def _centre(box: tuple[float, float, float, float]) -> tuple[float, float]:
    x, y, w, h = box
    return x + w / 2 - 0.5, y + h / 2 - 0.5


def _jitter_box(rng: np.random.Generator, box: tuple[float, float, float, float],
                amount: float) -> tuple[float, float, float, float]:
    x, y, w, h = box
    cx, cy = _centre(box)
    cx, cy = cx + rng.uniform(-amount, amount) * w, cy + rng.uniform(-amount, amount) * h
    w, h = w * np.exp(rng.uniform(-amount, amount)), h * np.exp(rng.uniform(-amount, amount))
    return cx - w / 2 + 0.5, cy - h / 2 + 0.5, max(w, 1.0), max(h, 1.0)


def _augment(rng: np.random.Generator, template: np.ndarray, search: np.ndarray,
             mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Colour (a shared look plus each crop's own), mirror, grey, blur; the mask follows the geometry."""
    # One colour draw per crop: the two frames may be far apart in time, as lighting is.
    template = augment.apply_colour(template[None], augment.colour_params(rng, 1, 0.3, 0.3, 0.4, 0.05, 0))[0]
    search = augment.apply_colour(search[None], augment.colour_params(rng, 1, 0.3, 0.3, 0.4, 0.05, 0))[0]
    if rng.random() < 0.5:
        template, search, mask = template[:, ::-1], search[:, ::-1], mask[:, ::-1]
    if rng.random() < 0.05:
        template, search = (np.repeat(cv2.cvtColor(np.ascontiguousarray(i), cv2.COLOR_RGB2GRAY)[..., None], 3, 2)
                            for i in (template, search))
    if rng.random() < 0.2:  # motion or defocus blur of the frame being searched
        search = cv2.GaussianBlur(np.ascontiguousarray(search), (0, 0), rng.uniform(0.5, 2.0))
    return np.ascontiguousarray(template), np.ascontiguousarray(search), np.ascontiguousarray(mask)


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.multiply(image.transpose(2, 0, 1), np.float32(1 / 255), dtype=np.float32))
