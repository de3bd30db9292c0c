"""Clips that look like tracking footage rather than DAVIS: a small target moving fast among look-alikes.

DAVIS objects are large and slow. Tracking benchmarks are not: a target of a few dozen pixels in a
720p or 1080p frame, fast and erratic motion with motion blur, look-alike distractors crossing it
(and hiding it for a moment), a panning camera. This renders such clips from cut-out objects (any
image with a mask, e.g. held-out photos) over a background photo, with exact ground truth: the
target's visible pixels (label 1); distractors are not labelled.

Shapes: sprites are (h, w, 3) uint8 RGB with (h, w) float32 alpha in [0, 1]; a clip's frames are
(T, H, W, 3) uint8 RGB and its labels (T, H, W) uint8.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidseg.data import motion
from vidseg.data.synthetic import SyntheticClip
from vidseg.errors import InputError

_MIN_VISIBLE = 0.5  # coverage at which a pixel shows the sprite (the ground truth's threshold)


@dataclass(frozen=True)
class FootageConfig:
    """height, width: frame size. target_side: the target's longer side in pixels, drawn from this
    range. speed: the target's mean speed in pixels per frame, drawn from this range; it turns
    sharply every few frames. lookalikes: recoloured, rescaled copies of the target moving on their
    own paths, half of them in front of it. blur: motion blur along each sprite's velocity, its
    length this share of the distance moved in a frame (0: none)."""

    height: int = 720
    width: int = 1280
    num_frames: int = 90
    target_side: tuple[int, int] = (24, 72)
    speed: tuple[float, float] = (6.0, 20.0)
    lookalikes: int = 3
    blur: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.height, self.width) < 64 or self.num_frames < 2:
            raise InputError(f"footage of {self.width}x{self.height}, {self.num_frames} frames; "
                             "give at least 64x64 and 2 frames")
        low, high = self.target_side
        if not 4 <= low <= high <= min(self.height, self.width) // 2:
            raise InputError(f"target side {self.target_side}; give 4 <= low <= high <= half the frame's shorter side")
        if not 0 < self.speed[0] <= self.speed[1] or self.lookalikes < 0 or self.blur < 0:
            raise InputError("speed must be a range of positive numbers; lookalikes and blur >= 0")


@dataclass(frozen=True)
class Sprite:
    """An object to move: ``rgb`` (h, w, 3) uint8 and ``alpha`` (h, w) float32, cut to its box."""

    rgb: np.ndarray
    alpha: np.ndarray

    @classmethod
    def cut(cls, image: np.ndarray, mask: np.ndarray) -> Sprite:
        """The object of ``mask`` (H, W, nonzero on it) in ``image`` (H, W, 3), cut to its box."""
        ys, xs = np.nonzero(mask)
        if len(ys) < 16:
            raise InputError(f"a sprite needs a mask of at least 16 pixels, got {len(ys)}")
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        return cls(np.ascontiguousarray(image[y0:y1, x0:x1]), (mask[y0:y1, x0:x1] > 0).astype(np.float32))

    def recoloured(self, hue_shift: int, gain: float) -> Sprite:
        """The same object with its hue turned by ``hue_shift`` (OpenCV units, 0-179) and its
        brightness times ``gain``: a look-alike, not a copy."""
        hsv = cv2.cvtColor(self.rgb, cv2.COLOR_RGB2HSV).astype(np.int32)
        hsv[..., 0] = (hsv[..., 0] + hue_shift) % 180
        hsv[..., 2] = np.clip(hsv[..., 2] * gain, 0, 255)
        return Sprite(cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB), self.alpha)


def render_footage(target: Sprite, background: np.ndarray, config: FootageConfig,
                   others: list[Sprite] | None = None) -> SyntheticClip:
    """A clip of ``target`` (label 1) over ``background`` (any size, RGB uint8; the camera pans
    over it), with ``config.lookalikes`` recoloured copies of the target and each of ``others``
    moving beside it. Raises InputError when the target is never visible in the first frame."""
    rng = np.random.default_rng(config.seed)
    t, h, w = config.num_frames, config.height, config.width
    side = rng.uniform(*config.target_side)
    target_scale = side / max(target.rgb.shape[:2])
    movers = [(target, target_scale, True)]
    for _ in range(config.lookalikes):
        lookalike = target.recoloured(int(rng.integers(-12, 13)), float(rng.uniform(0.75, 1.25)))
        movers.append((lookalike, target_scale * rng.uniform(0.8, 1.25), False))
    for sprite in others or []:
        movers.append((sprite, rng.uniform(*config.target_side) / max(sprite.rgb.shape[:2]), False))
    paths = [_path(rng, config, scale * max(s.rgb.shape[:2])) for s, scale, _ in movers]
    # Depth: a random order, back to front, so each other sprite is in front of the target (it may
    # hide it) or behind it.
    order = list(rng.permutation(len(movers)))
    camera = _camera(rng, background, config)
    frames = np.empty((t, h, w, 3), np.uint8)
    labels = np.zeros((t, h, w), np.uint8)
    for f in range(t):
        canvas = camera[f].astype(np.float32)
        target_alpha = np.zeros((h, w), np.float32)
        for k in order:
            sprite, scale, is_target = movers[k]
            placed = _place(sprite, scale, paths[k], f, (h, w), config.blur)
            if placed is None:
                continue
            window, rgb, alpha, sharp = placed
            canvas[window] = canvas[window] * (1 - alpha[..., None]) + rgb * alpha[..., None]
            if is_target:
                target_alpha[window] = sharp
            else:
                target_alpha[window] *= 1 - sharp  # hidden where a sprite in front covers it
        frames[f] = np.clip(canvas + rng.normal(0, 2.0, canvas.shape), 0, 255).astype(np.uint8)
        labels[f] = target_alpha >= _MIN_VISIBLE
    if not labels[0].any():
        raise InputError("the target is hidden in the first frame; use another seed")
    return SyntheticClip(frames, labels, [1], labels.reshape(t, -1).sum(axis=1, dtype=np.int64)[:, None])


def _path(rng: np.random.Generator, config: FootageConfig, side: float) -> np.ndarray:
    """(T, 4): centre x, y, scale factor, rotation in degrees per frame; sharp turns every 4-10 frames."""
    t = config.num_frames
    times = motion.waypoint_times(t, rng.uniform(4, 10))
    speed = rng.uniform(*config.speed)
    step = (speed * 0.6 * np.diff(times).mean(), speed * 1.4 * np.diff(times).mean())
    margin = side / 2 + 2
    low, high = np.array([margin, margin]), np.array([config.width - margin, config.height - margin])
    start = rng.uniform(low, high) if (high > low).all() else (low + high) / 2
    points = motion.random_walk(rng, len(times), 0, start, step, low, np.maximum(high, low))
    centre = motion.spline_path(times, points, t)
    scale = 1 + motion.oscillation(rng, t, 0.15)
    angle = motion.oscillation(rng, t, 20.0)
    return np.column_stack([centre, scale, angle])


def _camera(rng: np.random.Generator, background: np.ndarray, config: FootageConfig) -> np.ndarray:
    """(T, H, W, 3) uint8: ``background`` resized to cover 1.25x the frame, panned across smoothly."""
    h, w = config.height, config.width
    cover = 1.25 * max(h / background.shape[0], w / background.shape[1])
    big = cv2.resize(background, (round(background.shape[1] * cover), round(background.shape[0] * cover)),
                     interpolation=cv2.INTER_LINEAR)
    room = np.array([big.shape[1] - w, big.shape[0] - h], float)
    ends = rng.uniform(0, 1, (2, 2)) * room
    out = np.empty((config.num_frames, h, w, 3), np.uint8)
    for f, s in enumerate(motion.ease(config.num_frames)):
        x, y = (ends[0] + (ends[1] - ends[0]) * s).astype(int)
        out[f] = big[y:y + h, x:x + w]
    return out


def _place(sprite: Sprite, scale: float, path: np.ndarray, f: int, size_hw: tuple[int, int],
           blur: float) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray, np.ndarray] | None:
    """The sprite at frame ``f`` of its path in a (H, W) frame, drawn in the window it covers:
    (window slices, rgb (h, w, 3) float32, alpha (h, w) blurred along its motion by ``blur`` times
    the distance moved, sharp alpha (h, w) for the ground truth); None when it is out of the frame."""
    x, y, grow, angle = path[f]
    sh, sw = sprite.alpha.shape
    matrix = cv2.getRotationMatrix2D(((sw - 1) / 2, (sh - 1) / 2), angle, scale * grow)
    matrix[:, 2] += (x - (sw - 1) / 2, y - (sh - 1) / 2)
    dx, dy = (path[f, :2] - path[f - 1, :2]) * blur if f > 0 else (0.0, 0.0)
    corners = np.array([[0, 0, 1], [sw, 0, 1], [0, sh, 1], [sw, sh, 1]], float) @ matrix.T
    pad = int(np.hypot(dx, dy)) + 2
    h, w = size_hw
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + pad, (w, h))
    if x1 <= x0 or y1 <= y0:
        return None
    matrix[:, 2] -= (x0, y0)
    premultiplied = np.dstack([sprite.rgb.astype(np.float32) * sprite.alpha[..., None], sprite.alpha])
    layer = cv2.warpAffine(premultiplied, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderValue=0)
    sharp = layer[..., 3].copy()
    layer = _motion_blur(layer, dx, dy)
    alpha = layer[..., 3]
    rgb = layer[..., :3] / np.maximum(alpha, 1e-6)[..., None]
    return (slice(y0, y1), slice(x0, x1)), rgb, alpha, sharp


def _motion_blur(layer: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """A linear blur of (H, W, C) ``layer`` over the segment (dx, dy) pixels long, centred."""
    length = int(round(np.hypot(dx, dy)))
    if length < 2:
        return layer
    kernel = np.zeros((2 * length + 1, 2 * length + 1), np.float32)
    c = length
    cv2.line(kernel, (round(c - dx / 2), round(c - dy / 2)), (round(c + dx / 2), round(c + dy / 2)), 1.0, 1)
    return cv2.filter2D(layer, -1, kernel / kernel.sum())
