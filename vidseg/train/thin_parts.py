"""Thin structures drawn over training frames: occluders the mask must leave out, parts it must keep.

Our training objects (30 DAVIS clips, salient-object photos) have few thin parts, so the network
learns that a mask is a blob: it covers a pole in front of a person, a blade of grass across a
skirt, and drops a kite's lines or a leash. Users meet these everywhere and spend clicks on them
that change nothing. So some samples get strokes drawn over the frame before it is cropped:

- occluders, removed from the mask: a pole or stick across the object (straight or slightly bent,
  up to a few percent of the object's size wide) or a tuft of grass blades (1-4 px, curved, often
  out of focus) rising through it; a faint tuft is half transparent, pale and defocused, as grass
  close to the lens in front of a pale dress, and annotators still leave its blades out;
- attached parts, added to the mask: lines from a point of the object's outline outwards
  (1-3 px, as lines, strings, leashes, antennas), some ending in a small blob.

Strokes are drawn at the frame's own resolution, so the crop's scale decides how thin they look to
the network (a box crop shrinks them, a focus window magnifies them), as at inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidseg.train.augment import outline

_MIN_KEPT = 0.6  # occluders may hide at most 40% of the object; the sample is left as it was otherwise
ATTACHED_SHARE = 0.5  # the default share of samples with thin parts whose strokes belong to the object
_FAINT_OPACITY = (0.3, 0.7)  # a faint tuft's blades show this much of their colour over the object


@dataclass
class _Stroke:
    """A polyline (N, 2) float32 in image pixels, its width in pixels, its defocus blur sigma, its
    RGB colour (3,) float32 (None: drawn when painted) and its opacity (1: opaque)."""

    points: np.ndarray
    width: int
    blur: float
    colour: np.ndarray | None = None
    opacity: float = 1.0


def add_thin_parts(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray,
                   attached_share: float = ATTACHED_SHARE,
                   faint_share: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """New (H, W, 3) uint8 image and (H, W) uint8 {0, 1} mask with thin strokes drawn over them
    (``image`` and ``mask`` are not changed), and the (H, W) bool cover of the strokes: attached
    parts with probability ``attached_share``, else occluders, of which a tuft of grass is faint
    with probability ``faint_share``. Returns them unchanged, and None, when the mask is empty or
    the occluders would hide too much of it."""
    if not mask.any():
        return image, mask, None
    obj = _Object.of(mask)
    attached = rng.random() < attached_share
    if attached:
        strokes = _attached_lines(rng, mask, obj)
    else:
        strokes = _pole(rng, obj) if rng.random() < 0.5 else _grass(rng, image, obj, faint_share)
    painted, cover = _paint(rng, image, strokes)
    if attached:
        return painted, (mask | cover).astype(np.uint8), cover
    kept = (mask & ~cover).astype(np.uint8)
    if kept.sum() < _MIN_KEPT * mask.sum():
        return image, mask, None
    return painted, kept, cover


def _attached_lines(rng: np.random.Generator, mask: np.ndarray, obj: _Object) -> list[_Stroke]:
    """1-4 lines from one point of the outline outwards (away from the object's centre), 0.3-1.5
    times the object's size long; a third end in a blob (drawn as a short, wide stroke)."""
    size, centre = obj.size, obj.centre
    ys, xs = np.nonzero(outline(mask))
    k = int(rng.integers(len(xs)))
    start = np.array([xs[k], ys[k]], np.float32)
    away = np.arctan2(*(start - centre)[::-1]) if np.any(start != centre) else rng.uniform(-np.pi, np.pi)
    strokes = []
    heading = away + rng.uniform(-1.0, 1.0)
    length = size * rng.uniform(0.3, 1.5)
    for _ in range(int(rng.integers(1, 5))):
        # Lines from one hand or one bar fan out a little.
        line = _polyline(rng, start, heading + rng.uniform(-0.15, 0.15), length * rng.uniform(0.85, 1.15), 0.03)
        strokes.append(_Stroke(line, int(rng.integers(1, 4)), 0.0))
    if rng.random() < 1 / 3:
        end = strokes[0].points[-1]
        blob = _polyline(rng, end, rng.uniform(-np.pi, np.pi), size * rng.uniform(0.04, 0.12), 0.0)
        strokes.append(_Stroke(blob, max(2, int(size * rng.uniform(0.03, 0.08))), 0.0))
    return strokes


def _pole(rng: np.random.Generator, obj: _Object) -> list[_Stroke]:
    """One or two poles through points of the object, longer than it, a few percent of its size wide."""
    size = obj.size
    strokes = []
    for _ in range(int(rng.integers(1, 3))):
        through = obj.point(rng)
        heading = rng.uniform(-np.pi, np.pi)
        length = size * rng.uniform(1.5, 3.0)
        start = through - length / 2 * np.array([np.cos(heading), np.sin(heading)], np.float32)
        width = int(np.clip(size * rng.uniform(0.01, 0.06), 2, 40))
        strokes.append(_Stroke(_polyline(rng, start, heading, length, 0.005), width, rng.uniform(0.0, 1.0)))
    return strokes


def _grass(rng: np.random.Generator, image: np.ndarray, obj: _Object, faint_share: float = 0.0) -> list[_Stroke]:
    """3-15 blades rising (upwards, +-40 degrees) from below points of the object through it,
    1-4 px wide, curving; one defocus and one colour (give or take a fifth) for the tuft. A faint
    tuft (probability ``faint_share``) has 8-30 blades, half transparent, always defocused, in a
    colour close to the object's own: the blades annotators leave out but a network barely sees."""
    size = obj.size
    # The draws keep their order (blur, colour, [opacity,] count): earlier runs resume the same.
    if faint_share > 0 and rng.random() < faint_share:  # no draw at 0, for the same reason
        blur, base = rng.uniform(0.5, 1.5), _faint_colour(rng, image, obj)
        opacity, blades = rng.uniform(*_FAINT_OPACITY), int(rng.integers(8, 31))
    else:
        blur, base, opacity = rng.uniform(0.0, 1.5), _colour(rng, image), 1.0
        blades = int(rng.integers(3, 16))
    strokes = []
    for _ in range(blades):
        length = size * rng.uniform(0.2, 0.8)
        heading = -np.pi / 2 + rng.uniform(-0.7, 0.7)
        start = obj.point(rng) + np.array([0, length * rng.uniform(0.3, 0.9)], np.float32)
        colour = np.clip(base * rng.uniform(0.8, 1.2), 0, 255).astype(np.float32)  # one tuft, one hue
        line = _polyline(rng, start, heading, length, 0.08)
        strokes.append(_Stroke(line, int(rng.integers(1, 5)), blur, colour, opacity))
    return strokes


def _polyline(rng: np.random.Generator, start: np.ndarray, heading: float, length: float,
              bend: float, steps: int = 16) -> np.ndarray:
    """(steps + 1, 2) float32: a walk of ``steps`` equal segments from ``start``, its heading
    (radians) turning by a normal draw of ``bend`` radians a segment."""
    turns = np.cumsum(rng.normal(0.0, bend, steps)) + heading
    moves = np.stack([np.cos(turns), np.sin(turns)], axis=1) * (length / steps)
    return np.vstack([start[None], start[None] + np.cumsum(moves, axis=0)]).astype(np.float32)


def _paint(rng: np.random.Generator, image: np.ndarray, strokes: list[_Stroke]) -> tuple[np.ndarray, np.ndarray]:
    """The image with ``strokes`` drawn (each in its colour, or one from :func:`_colour`, with a
    little noise, at its opacity) and the (H, W) bool cover: where the stroke's own footprint is
    at least half covered, however transparent the stroke (a faint blade is still a blade)."""
    out = image.copy()
    cover = np.zeros(image.shape[:2], bool)
    for stroke in strokes:
        # Only the stroke's box is worked on: a frame is 854x480, a stroke a few thousand pixels.
        reach = stroke.width + 3 * stroke.blur + 2
        x0, y0 = np.floor(np.maximum(stroke.points.min(axis=0) - reach, 0)).astype(int)
        x1, y1 = np.ceil(np.minimum(stroke.points.max(axis=0) + reach, image.shape[1::-1])).astype(int)
        if x1 <= x0 or y1 <= y0:
            continue  # wholly outside the frame
        alpha = np.zeros((y1 - y0, x1 - x0), np.uint8)
        points = np.round((stroke.points - [x0, y0]) * 4).astype(np.int32)  # 2 fractional bits: smooth curves
        cv2.polylines(alpha, [points], False, 255, stroke.width, cv2.LINE_AA, shift=2)
        a = alpha.astype(np.float32) / 255
        if stroke.blur > 0.3:
            a = cv2.GaussianBlur(a, (0, 0), stroke.blur)
        cover[y0:y1, x0:x1] |= a >= 0.5
        region = out[y0:y1, x0:x1].astype(np.float32)
        colour = _colour(rng, image) if stroke.colour is None else stroke.colour
        shade = colour[None, None] * (1 + rng.normal(0, 0.06, (*a.shape, 1)).astype(np.float32))
        region += (stroke.opacity * a)[..., None] * (np.clip(shade, 0, 255) - region)
        out[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    return out, cover


def _colour(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """(3,) float32 RGB: half the time a pixel of the image made lighter or darker, else any colour."""
    if rng.random() < 0.5:
        y, x = rng.integers(image.shape[0]), rng.integers(image.shape[1])
        return np.clip(image[y, x].astype(np.float32) * rng.uniform(0.5, 1.5), 0, 255)
    return rng.uniform(0, 255, 3).astype(np.float32)


def _faint_colour(rng: np.random.Generator, image: np.ndarray, obj: _Object) -> np.ndarray:
    """(3,) float32 RGB: a pixel of the object made a little lighter or darker (low contrast)."""
    x, y = obj.point(rng).astype(int)
    return np.clip(image[y, x].astype(np.float32) * rng.uniform(0.75, 1.35), 0, 255)


@dataclass(frozen=True)
class _Object:
    """The object's pixels (xs, ys), its longer box side in pixels and its centroid (x, y), found
    once per sample: a frame is 854x480 and a tuft of grass asks for up to 15 points."""

    xs: np.ndarray
    ys: np.ndarray
    size: float
    centre: np.ndarray

    @classmethod
    def of(cls, mask: np.ndarray) -> _Object:
        ys, xs = np.nonzero(mask)
        size = float(max(xs.max() - xs.min(), ys.max() - ys.min()) + 1)
        return cls(xs, ys, size, np.array([xs.mean(), ys.mean()], np.float32))

    def point(self, rng: np.random.Generator) -> np.ndarray:
        """(2,) float32 (x, y) of a random pixel of the object."""
        k = int(rng.integers(len(self.xs)))
        return np.array([self.xs[k], self.ys[k]], np.float32)
