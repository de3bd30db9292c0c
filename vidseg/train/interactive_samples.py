"""Training samples for the interactive network: a crop around a user's selection, class-agnostic.

Every object is just "the object": the network learns to cut out whatever the selection points at.
Two kinds of selection are drawn, as users make them:

- a box: the object's box with each side pushed out (up to half the object's size, so the box is
  up to twice the object) or slightly in, cut as :class:`~vidseg.ops.crops.CropWindow.around`
  does at inference; sometimes with a first positive click too;
- a click: a wide square centred on a point of the object, 1.3x to 8x its size (what the region
  branch sees before it proposes the box), with that positive click;
- a focus window (FocalClick's focus crop): a square of a quarter to nine tenths of the object's size
  on a point of its outline, with a coarse previous mask (the object seen at a few dozen pixels, a
  blob of it wrong) and the protocol's click on that mask's error. A correction click reruns the
  network on such a window at the crop's full resolution (``ClickSegmenter``'s focus step), so fine
  parts and outlines are drawn at the image's own detail rather than the whole object's crop's.

Frames are real (DAVIS) or composites (an object cut out of one sequence over another's frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from vidseg.engine.interactive.click_segmenter import BOX_MARGIN
from vidseg.engine.interactive.selection_cues import selection_maps
from vidseg.errors import InputError
from vidseg.eval.click_protocol import next_click
from vidseg.ops.crops import CropWindow, check_stretch, cut
from vidseg.train import augment
from vidseg.train.clips import FrameStore, SeededSamples, pick_object
from vidseg.train.composite import composite_clip
from vidseg.train.thin_parts import ATTACHED_SHARE, add_thin_parts

_ATTEMPTS = 20
THIN_PIXELS = 30  # a thin part smaller than this is a jag of the outline, not a line or a rail
# Focus windows magnify the image up to this much by default: the shipped networks' range;
# ClickSegmenter's focus pass runs inside it (FocusConfig.max_zoom, 1.5x, chosen on TUNE clips).
TRAIN_MAX_ZOOM = 2.0


@dataclass(frozen=True)
class InteractiveSampleConfig:
    """crop: side of the square crops. click_share: share of click selections (the rest are boxes).
    box_click_share: share of box selections that also get a first positive click. focus_share:
    share of focus windows (taken before the click / box draw). loosen: largest outward push of each
    box side, as a share of the object's size (0.5 = box up to twice the object); tighten: largest
    inward push. synthetic_ratio: share of composite images. thin_share: share of images that get
    thin occluders or thin attached parts drawn over them (:mod:`vidseg.train.thin_parts`);
    thin_attached: the share of those whose strokes are attached parts (the rest occluders).
    thin_faint: the share of drawn tufts of grass that are faint (half transparent, pale, blurred).
    thin_focus: share of focus windows centred on a thin part of the object (a line, a rail:
    :func:`~vidseg.train.augment.thin_part`) where it has one, instead of anywhere on its outline.
    stretch: a box selection's window may be this many times longer one way than the other
    (:meth:`~vidseg.ops.crops.CropWindow.around`), as the click segmenter then cuts it.
    focus_zoom: a focus window magnifies the image at most this much (its side at least
    crop / focus_zoom image pixels). thin_zoom: a window centred on a thin part magnifies the image
    thin_zoom / 1.5 to thin_zoom times instead (0: sized like the others), as the click segmenter's
    close pass does after a click on a thin part (``FocusConfig.thin_zoom``). thin_click: share of
    samples that get thin parts drawn and are corrections of them: the previous mask is the object
    as it was before the parts were drawn (a pole covered, a line left out, as a network that sees
    blobs draws it) and the click is the protocol's on that mask's error, so on a part; the network
    learns that one click there takes the whole part in or out (drawn whatever thin_share says).
    own_thin_click: share of samples that correct the object's own thin parts (its lines, rails,
    ropes: :func:`~vidseg.train.augment.thin_part`) where it has them in the crop: the previous
    mask is the object without them, the click the protocol's on them, so the same lesson is learnt
    on real thin parts as they look in photos and clips, not on drawn strokes alone."""

    crop: int = 224
    click_share: float = 0.3
    box_click_share: float = 0.3
    focus_share: float = 0.0
    loosen: float = 0.5
    tighten: float = 0.05
    synthetic_ratio: float = 0.3
    thin_share: float = 0.0
    thin_attached: float = ATTACHED_SHARE
    thin_faint: float = 0.0
    thin_focus: float = 0.0
    stretch: float = 1.0
    focus_zoom: float = TRAIN_MAX_ZOOM
    thin_zoom: float = 0.0
    thin_click: float = 0.0
    own_thin_click: float = 0.0
    min_pixels: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("click_share", "box_click_share", "focus_share", "synthetic_ratio", "thin_share",
                     "thin_attached", "thin_faint", "thin_focus", "thin_click", "own_thin_click", "tighten"):
            if not 0 <= getattr(self, name) <= 1:
                raise InputError(f"{name} is {getattr(self, name)!r}; use a number from 0 to 1")
        if self.crop % 16 or self.crop < 64:
            raise InputError(f"crop is {self.crop}; use a multiple of 16 of at least 64")
        check_stretch(self.stretch)
        if not 1 <= self.focus_zoom < float("inf"):
            raise InputError(f"focus_zoom is {self.focus_zoom!r}; use a magnification of at least 1")
        if not (self.thin_zoom == 0 or 1 <= self.thin_zoom < float("inf")):
            raise InputError(f"thin_zoom is {self.thin_zoom!r}; use 0 (off) or a magnification of at least 1")


class InteractiveTrainingSet(SeededSamples):
    """``length`` samples from ``store``; item i is the same for the same (config.seed, i).

    Items: ``image`` (3, S, S) float RGB in [0, 1]; ``mask`` (1, S, S) float {0, 1};
    ``click`` (4,) float: the first click (x, y) in crop pixels, 1, and 1 if positive else 0; or
    zeros without one; ``prev`` (1, S, S) float in [0, 1]: the previous mask (zeros but for focus
    windows); ``cues`` (2, S, S) float: the selection's box and colour likelihood
    (``engine/interactive/selection_cues.py``); ``thin`` (1, S, S) float {0, 1}: where thin parts
    were drawn (zeros without them).
    """

    def __init__(self, store: FrameStore, config: InteractiveSampleConfig | None = None, length: int = 10000) -> None:
        super().__init__(store, config or InteractiveSampleConfig(), length)

    def sample(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        c = self.config
        image, mask = self._image(rng)
        thin, before = None, mask
        correcting = c.thin_click > 0 and rng.random() < c.thin_click  # no draw at 0: old runs resume the same
        if correcting or (c.thin_share > 0 and rng.random() < c.thin_share):
            image, mask, thin = add_thin_parts(rng, image, mask, c.thin_attached, c.thin_faint)
        own = not correcting and c.own_thin_click > 0 and rng.random() < c.own_thin_click
        if own:
            removed = augment.thin_part(mask, min_pixels=THIN_PIXELS) > 0  # what the previous mask leaves out
            before, correcting = mask & ~removed, True
        image = augment.apply_colour(image[None], augment.colour_params(rng, 1, 0.2, 0.2, 0.3, 0.03, 0))[0]
        focus = c.focus_share > 0 and rng.random() < c.focus_share  # no draw at 0: old runs resume the same
        window, box, click = focus_selection(rng, mask, c) if focus else selection(rng, mask, c)
        crop, crop_mask = cut(image, window, c.crop), cut_mask(mask, window, c.crop)
        drawn = np.zeros(crop_mask.shape, np.float32) if thin is None else cut(thin.astype(np.float32), window, c.crop)
        left_out = cut_mask(removed.astype(np.uint8), window, c.crop) if own else drawn  # zeros without parts
        if correcting and left_out.any():
            prev = cut_mask(before, window, c.crop).astype(np.float32)  # the object without those parts
            point, positive = _first_click(prev, crop_mask)
        else:
            prev = coarse_mask(rng, crop_mask) if focus else np.zeros(crop_mask.shape, np.float32)
            point, positive = _first_click(prev, crop_mask) if focus \
                else (None if click is None else window.to_crop([click], c.crop)[0], True)
        x0, y0, x1, y1 = window.box_to_crop(box, c.crop)
        if rng.random() < 0.5:  # mirror
            crop, crop_mask, prev, drawn = (np.ascontiguousarray(a[:, ::-1]) for a in (crop, crop_mask, prev, drawn))
            point = None if point is None else np.array([c.crop - 1 - point[0], point[1]])
            x0, x1 = c.crop - x1, c.crop - x0
        return {
            "cues": torch.from_numpy(selection_maps(crop, (x0, y0, x1, y1))),
            "image": torch.from_numpy(np.multiply(crop.transpose(2, 0, 1), np.float32(1 / 255), dtype=np.float32)),
            "mask": torch.from_numpy(np.ascontiguousarray(crop_mask[None], dtype=np.float32)),
            "prev": torch.from_numpy(prev[None].astype(np.float32)),
            "thin": torch.from_numpy((drawn[None] > 0).astype(np.float32)),
            "click": torch.tensor([*point, 1.0, float(positive)] if point is not None else [0.0] * 4,
                                  dtype=torch.float32),
        }

    def _image(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(H, W, 3) uint8 and the selected object's (H, W) uint8 {0, 1} mask."""
        c = self.config
        if rng.random() < c.synthetic_ratio:
            h, w = self.store.frames[0].shape[1:3]
            clip = composite_clip(rng, self.store, self.areas, (h, w), (0.7, 1.3), c.min_pixels)
            if clip is not None:  # its first frame is the one sure to show the object
                return clip[0][0], clip[1][0]
        for _ in range(_ATTEMPTS):
            seq = int(rng.integers(len(self.store)))
            picked = pick_object(rng, self.areas[seq], c.min_pixels)
            if picked is not None:
                t, _ = picked
                # Class-agnostic: every annotated object of the frame is "the object".
                return self.store.frames[seq][t], (self.store.masks[seq][t] > 0).astype(np.uint8)
        raise InputError("could not find an annotated object to train on; check the masks")


def selection(rng: np.random.Generator, mask: np.ndarray, config: InteractiveSampleConfig
              ) -> tuple[CropWindow, tuple[float, float, float, float], tuple[float, float] | None]:
    """A user-like selection of the object in ``mask``: the crop window, the box (image pixels) and
    the first click, if any. A click selection's box is the object's, a little off, as the region
    branch would propose it."""
    x, y, w, h = cv2.boundingRect(mask)
    click = _inside_point(rng, mask)
    if rng.random() < config.click_share:
        side = max(w, h) * float(np.exp(rng.uniform(np.log(1.3), np.log(8.0))))
        push = rng.uniform(-0.1, 0.2, size=4) * np.array([w, h, w, h])
        box = (x - push[0], y - push[1], x + w + push[2], y + h + push[3])
        return CropWindow.centred(click[0], click[1], side), box, click
    push = rng.uniform(-config.tighten, config.loosen, size=4) * np.array([w, h, w, h])
    box = (x - push[0], y - push[1], x + w + push[2], y + h + push[3])
    window = CropWindow.around(box, BOX_MARGIN, config.stretch)
    return window, box, click if rng.random() < config.box_click_share else None


def cut_mask(mask: np.ndarray, window: CropWindow, size: int) -> np.ndarray:
    """(size, size) uint8 {0, 1}: ``mask`` (H, W) {0, 1} cut like the image and thresholded at half,
    so a magnified window gets a smooth outline rather than nearest-neighbour steps."""
    return (cut(mask.astype(np.float32), window, size) > 0.5).astype(np.uint8)


def focus_selection(rng: np.random.Generator, mask: np.ndarray, config: InteractiveSampleConfig
                    ) -> tuple[CropWindow, tuple[float, float, float, float], None]:
    """A focus window on the object's outline: centred near a random outline pixel, its side a
    quarter to nine tenths of the object's longer side (at least half the crop's); the box is the
    selection's, as for a box. A share ``config.thin_focus`` is centred on a thin part instead,
    where the object has one: a random outline pixel rarely lies on one, and a thin part's few
    pixels weigh little in a window, so without this the network seldom learns to follow them;
    with ``config.thin_zoom`` such a window is also magnified that much."""
    x, y, w, h = cv2.boundingRect(mask)
    centres = augment.outline(mask)
    on_thin = False
    if config.thin_focus > 0 and rng.random() < config.thin_focus:  # no draw at 0: old runs resume the same
        thin = augment.thin_part(mask, min_pixels=THIN_PIXELS)
        centres, on_thin = (thin, True) if thin.any() else (centres, False)
    ys, xs = np.nonzero(centres if centres.any() else mask)
    k = int(rng.integers(len(xs)))
    if on_thin and config.thin_zoom:
        side = config.crop / config.thin_zoom * rng.uniform(1, 1.5)
    else:
        side = max(max(w, h) * rng.uniform(0.25, 0.9), config.crop / config.focus_zoom)
    cx, cy = xs[k] + rng.uniform(-0.2, 0.2) * side, ys[k] + rng.uniform(-0.2, 0.2) * side
    push = rng.uniform(-config.tighten, config.loosen, size=4) * np.array([w, h, w, h])
    box = (x - push[0], y - push[1], x + w + push[2], y + h + push[3])
    return CropWindow.centred(cx, cy, side), box, None


def coarse_mask(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """(S, S) float32 in [0, 1]: ``mask`` (S, S) {0, 1} as a coarse prediction would draw it, seen
    through 16 to 80 pixels a side and blurred back up, its outline pushed in or out by a few
    pixels, and half the time a blob of it wrong (what the correction click then points at)."""
    size = mask.shape[0]
    low = int(rng.integers(16, 81))
    soft = cv2.resize(cv2.resize(mask.astype(np.float32), (low, low), interpolation=cv2.INTER_AREA),
                      (size, size), interpolation=cv2.INTER_LINEAR)
    soft = np.clip(soft + rng.uniform(-0.25, 0.25), 0, 1)  # the threshold moves: outline in or out
    if rng.random() < 0.5:
        blob = np.zeros((size, size), np.uint8)
        centre = tuple(int(v) for v in rng.integers(0, size, size=2))
        axes = tuple(int(v) for v in rng.integers(size // 16, size // 4, size=2))
        cv2.ellipse(blob, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, thickness=-1)
        soft = np.where(blob > 0, 1 - soft, soft)
    return soft.astype(np.float32)


def _first_click(prev: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """A correction's click, in crop pixels: the protocol's on the previous mask's error (None
    where it has none)."""
    found = next_click(prev > 0.5, mask > 0)
    return (None, True) if found is None else (np.array([found.x, found.y], np.float32), found.positive)


def _inside_point(rng: np.random.Generator, mask: np.ndarray) -> tuple[float, float]:
    """A random pixel of the object, away from its edge where the object allows."""
    inner = cv2.erode(mask, np.ones((5, 5), np.uint8))
    ys, xs = np.nonzero(inner if inner.any() else mask)
    k = int(rng.integers(len(xs)))
    return float(xs[k]), float(ys[k])
