"""Thin structures drawn into training images: occluders across the object, strands attached to it.

Photos of salient objects and most DAVIS frames show compact objects, so a network learnt from
them fills whatever its box holds: poles and grass in front of an animal or a dancer stay in the
mask however often a user clicks them off, and a kite's lines or a boat's rigging never join it.
Real footage has both, so some training images get them:

- bars: straight strips a few hundredths of the object's size wide that cross the object and run
  on past it (poles, stalks, railings), painted in a solid colour or with another image's pixels;
  the object's mask loses them;
- strands: thin bent lines that leave the object's outline outwards (lines, ropes, legs, antennae),
  in the object's own colour or a dark or bright one; the mask gains them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidseg.errors import InputError

_WIDTH = (0.015, 0.06)  # a bar's width, as a share of the object's longer side
_STRAND_WIDTH = (0.01, 0.035)


@dataclass(frozen=True)
class ThinPartsConfig:
    """bar_share, strand_share: the share of images that get bars across the object and strands
    out of it (drawn independently); at most ``most`` of each on one image."""

    bar_share: float = 0.0
    strand_share: float = 0.0
    most: int = 3

    def __post_init__(self) -> None:
        if not (0 <= self.bar_share <= 1 and 0 <= self.strand_share <= 1 and self.most >= 1):
            raise InputError(f"thin parts need shares from 0 to 1 and most >= 1, got {self}")


def add_thin_parts(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray, texture: np.ndarray,
                   config: ThinPartsConfig) -> tuple[np.ndarray, np.ndarray]:
    """``image`` (H, W, 3) uint8 and the object's ``mask`` (H, W) uint8 {0, 1} with bars and
    strands drawn as ``config`` draws them; ``texture`` (h, w, 3) uint8: another image, whose pixels
    some bars show. Returns new arrays; an empty mask is returned as it is."""
    if not mask.any():
        return image, mask
    image, mask = image.copy(), mask.copy()
    if config.strand_share and rng.random() < config.strand_share:
        for _ in range(int(rng.integers(1, config.most + 1))):
            draw_strand(rng, image, mask)
    if config.bar_share and rng.random() < config.bar_share:
        fill = cv2.resize(texture, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
        for _ in range(int(rng.integers(1, config.most + 1))):
            draw_bar(rng, image, mask, fill)
    return image, mask


def draw_bar(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray, fill: np.ndarray) -> None:
    """In place: a strip through a random pixel of the object, past its box on both sides, painted
    in a solid shaded colour or with ``fill``'s (H, W, 3) pixels; the mask loses it."""
    side = _object_side(mask)
    ys, xs = np.nonzero(mask)
    k = int(rng.integers(len(xs)))
    # Mostly upright or level, as poles and railings are; any angle at times.
    angle = rng.choice([np.pi / 2, 0.0]) + rng.normal(0, 0.15) if rng.random() < 0.7 else rng.uniform(0, np.pi)
    reach = side * rng.uniform(0.8, 2.0)
    dx, dy = np.cos(angle) * reach, np.sin(angle) * reach
    width = max(2, int(round(side * rng.uniform(*_WIDTH))))
    bar = np.zeros(mask.shape, np.uint8)
    cv2.line(bar, (int(xs[k] - dx), int(ys[k] - dy)), (int(xs[k] + dx), int(ys[k] + dy)), 1, width)
    where = bar > 0
    if rng.random() < 0.5:
        colour = rng.integers(0, 256, 3).astype(np.float32)
        shade = rng.uniform(0.75, 1.1, size=int(where.sum()))[:, None]
        image[where] = np.clip(colour * shade, 0, 255).astype(np.uint8)
    else:
        image[where] = fill[where]
    mask[where] = 0


def draw_strand(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray) -> None:
    """In place: a thin line of 2-4 bent segments from a point of the object's outline outwards,
    in the object's mean colour or a dark or bright one; the mask gains it."""
    side = _object_side(mask)
    outline = mask - cv2.erode(mask, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(outline if outline.any() else mask)
    k = int(rng.integers(len(xs)))
    centre = np.array([np.nonzero(mask)[1].mean(), np.nonzero(mask)[0].mean()])
    point = np.array([xs[k], ys[k]], np.float64)
    heading = np.arctan2(*(point - centre)[::-1]) + rng.uniform(-0.6, 0.6)
    colour = _strand_colour(rng, image, mask)
    width = max(2, int(round(side * rng.uniform(*_STRAND_WIDTH))))
    strand = np.zeros(mask.shape, np.uint8)
    for _ in range(int(rng.integers(2, 5))):
        step = side * rng.uniform(0.1, 0.3)
        nxt = point + step * np.array([np.cos(heading), np.sin(heading)])
        cv2.line(strand, tuple(int(v) for v in point), tuple(int(v) for v in nxt), 1, width)
        point, heading = nxt, heading + rng.uniform(-0.4, 0.4)
    where = strand > 0
    image[where] = colour
    mask[where] = 1


def _strand_colour(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(3,) uint8: the object's mean colour, or a dark or a bright grey."""
    pick = rng.random()
    if pick < 0.5:
        return image[mask > 0].mean(0).astype(np.uint8)
    return np.full(3, rng.integers(0, 50) if pick < 0.75 else rng.integers(200, 256), np.uint8)


def _object_side(mask: np.ndarray) -> float:
    _, _, w, h = cv2.boundingRect(mask)
    return float(max(w, h))
