"""Training samples for the interactive network: a crop around a user's selection, class-agnostic.

Every object is just "the object": the network learns to cut out whatever the selection points at.
Two kinds of selection are drawn, as users make them:

- a box: the object's box with each side pushed out (up to half the object's size, so the box is
  up to twice the object) or slightly in, cut as :class:`~vidseg.ops.crops.CropWindow.around`
  does at inference; sometimes with a first positive click too;
- a click: a wide square centred on a point of the object, 1.3x to 8x its size (what the region
  branch sees before it proposes the box), with that positive click.

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
from vidseg.ops.crops import CropWindow, cut
from vidseg.train import augment
from vidseg.train.clips import FrameStore, SeededSamples, pick_object
from vidseg.train.composite import composite_clip

_ATTEMPTS = 20


@dataclass(frozen=True)
class InteractiveSampleConfig:
    """crop: side of the square crops. click_share: share of click selections (the rest are boxes).
    box_click_share: share of box selections that also get a first positive click. loosen: largest
    outward push of each box side, as a share of the object's size (0.5 = box up to twice the
    object); tighten: largest inward push. synthetic_ratio: share of composite images."""

    crop: int = 224
    click_share: float = 0.3
    box_click_share: float = 0.3
    loosen: float = 0.5
    tighten: float = 0.05
    synthetic_ratio: float = 0.3
    min_pixels: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("click_share", "box_click_share", "synthetic_ratio", "tighten"):
            if not 0 <= getattr(self, name) <= 1:
                raise InputError(f"{name} is {getattr(self, name)!r}; use a number from 0 to 1")
        if self.crop % 16 or self.crop < 64:
            raise InputError(f"crop is {self.crop}; use a multiple of 16 of at least 64")


class InteractiveTrainingSet(SeededSamples):
    """``length`` samples from ``store``; item i is the same for the same (config.seed, i).

    Items: ``image`` (3, S, S) float RGB in [0, 1]; ``mask`` (1, S, S) float {0, 1};
    ``click`` (3,) float: the first positive click (x, y) in crop pixels and 1, or zeros without one;
    ``cues`` (2, S, S) float: the selection's box and colour likelihood (``engine/interactive/selection_cues.py``).
    """

    def __init__(self, store: FrameStore, config: InteractiveSampleConfig | None = None, length: int = 10000) -> None:
        super().__init__(store, config or InteractiveSampleConfig(), length)

    def sample(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        c = self.config
        image, mask = self._image(rng)
        image = augment.apply_colour(image[None], augment.colour_params(rng, 1, 0.2, 0.2, 0.3, 0.03, 0))[0]
        window, box, click = selection(rng, mask, c)
        crop, crop_mask = cut(image, window, c.crop), cut(mask, window, c.crop, cv2.INTER_NEAREST)
        point = window.to_crop([click], c.crop)[0] if click is not None else None
        x0, y0, x1, y1 = window.box_to_crop(box, c.crop)
        if rng.random() < 0.5:  # mirror
            crop, crop_mask = np.ascontiguousarray(crop[:, ::-1]), crop_mask[:, ::-1]
            point = None if point is None else np.array([c.crop - 1 - point[0], point[1]])
            x0, x1 = c.crop - x1, c.crop - x0
        return {
            "cues": torch.from_numpy(selection_maps(crop, (x0, y0, x1, y1))),
            "image": torch.from_numpy(np.multiply(crop.transpose(2, 0, 1), np.float32(1 / 255), dtype=np.float32)),
            "mask": torch.from_numpy(np.ascontiguousarray(crop_mask[None], dtype=np.float32)),
            "click": torch.tensor([*point, 1.0] if point is not None else [0.0, 0.0, 0.0], dtype=torch.float32),
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
    return CropWindow.around(box, BOX_MARGIN), box, click if rng.random() < config.box_click_share else None


def _inside_point(rng: np.random.Generator, mask: np.ndarray) -> tuple[float, float]:
    """A random pixel of the object, away from its edge where the object allows."""
    inner = cv2.erode(mask, np.ones((5, 5), np.uint8))
    ys, xs = np.nonzero(inner if inner.any() else mask)
    k = int(rng.integers(len(xs)))
    return float(xs[k]), float(ys[k])
