"""Augmentations for training clips: geometry, colour, and the errors of a mask the model sees.

Geometry is expressed as (2, 3) affine matrices that map source pixels to output pixels (pixel
centres at integer coordinates, as OpenCV has them), so a whole chain of crop, zoom, flip and jitter
costs one warp per image. Images are warped bilinearly, label maps with nearest neighbour, by the
same matrix, so they stay aligned.

The two mask corruptions imitate what the network is fed at inference: ``model_like_errors`` the
network's own previous result, ``flow_like_prior`` the previous mask warped by optical flow.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from vidseg.data.motion import invert_affine

# ---------------------------------------------------------------------------------------------
# Geometry


def similarity(src_point: tuple[float, float], dst_point: tuple[float, float], scale: float,
               angle: float = 0.0) -> np.ndarray:
    """(2, 3) affine that scales by ``scale``, turns by ``angle`` radians and takes ``src_point`` (x, y)
    to ``dst_point``."""
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    linear = np.array([[c, -s], [s, c]])
    return np.concatenate([linear, (np.asarray(dst_point, float) - linear @ np.asarray(src_point, float))[:, None]], 1)


def hflip(width: int) -> np.ndarray:
    """(2, 3) affine of a horizontal mirror of an image ``width`` pixels wide."""
    return np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]])


def centre_of(size_hw: tuple[int, int]) -> tuple[float, float]:
    """(x, y) of the centre of an image of ``size_hw`` (H, W)."""
    return (size_hw[1] - 1) / 2, (size_hw[0] - 1) / 2


def random_similarity(rng: np.random.Generator, size_hw: tuple[int, int], shift: float, zoom: float,
                      angle: float, about: tuple[float, float] | None = None) -> np.ndarray:
    """A random small motion: shift up to ``shift`` px per axis, scale 1 +- ``zoom``, turn up to ``angle``
    radians, about ``about`` (default the image centre)."""
    about = centre_of(size_hw) if about is None else about
    offset = rng.uniform(-shift, shift, 2)
    return similarity(about, (about[0] + offset[0], about[1] + offset[1]),
                      rng.uniform(1 - zoom, 1 + zoom), rng.uniform(-angle, angle))


def warp_frame(image: np.ndarray, matrix: np.ndarray, size_hw: tuple[int, int],
               border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """(H, W, 3) uint8 ``image`` warped by ``matrix`` into ``size_hw``; by default edges are repeated
    outwards, as :func:`warp_labels` repeats them, so an image and its labels stay consistent there."""
    return cv2.warpAffine(image, matrix, size_hw[::-1], flags=cv2.INTER_LINEAR, borderMode=border)


def warp_labels(labels: np.ndarray, matrix: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """(H, W) uint8 ids warped like :func:`warp_frame`, with nearest neighbour so ids stay ids."""
    return cv2.warpAffine(labels, matrix, size_hw[::-1], flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)


def smooth_field(rng: np.random.Generator, size_hw: tuple[int, int], amplitude: float,
                 cells: tuple[int, int] = (3, 4)) -> np.ndarray:
    """(H, W, 2) float32 smooth random displacement (dx, dy), at most about ``amplitude`` px.

    Random vectors on a coarse grid of ``cells`` (rows, cols), interpolated bicubically: a non-rigid
    bend whose wavelength is a fraction of the image, like a limb moving or cloth folding.
    """
    coarse = rng.uniform(-amplitude, amplitude, (cells[0] + 1, cells[1] + 1, 2)).astype(np.float32)
    return cv2.resize(coarse, size_hw[::-1], interpolation=cv2.INTER_CUBIC)


def remap_maps(matrix: np.ndarray, size_hw: tuple[int, int], field: np.ndarray | None = None,
               origin: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps (two (H, W) float32) for the warp by ``matrix`` followed by the displacement ``field``.

    Output pixel p samples the source at ``matrix^-1 (p + field(p))``. The maps cover the
    ``size_hw`` window of the output whose top-left pixel is ``origin`` (x, y); ``field`` is
    (H, W, 2) over that window.
    """
    xs, ys = _grid(size_hw)
    if origin != (0, 0):
        xs, ys = xs + np.float32(origin[0]), ys + np.float32(origin[1])
    if field is not None:
        xs, ys = xs + field[..., 0], ys + field[..., 1]
    inv = invert_affine(matrix).astype(np.float32)
    return inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2], inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]


@lru_cache(maxsize=8)
def _grid(size_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.arange(size_hw[1], dtype=np.float32), np.arange(size_hw[0], dtype=np.float32))
    xs.flags.writeable = ys.flags.writeable = False
    return xs, ys


# ---------------------------------------------------------------------------------------------
# Colour

_LUMA = np.array([0.299, 0.587, 0.114])


def colour_params(rng: np.random.Generator, n: int, brightness: float, contrast: float, saturation: float,
                  hue: float, per_frame: float) -> np.ndarray:
    """(n, 4) random (gain, contrast, saturation, hue turn) for n frames of one clip.

    One draw is shared by the clip (the camera's look), plus a ``per_frame`` share of it drawn per
    frame (exposure and white balance drift between frames). Hue is a fraction of the colour circle.
    """
    strengths = np.array([brightness, contrast, saturation, hue])
    shared = rng.uniform(-1, 1, 4) * strengths
    own = rng.uniform(-1, 1, (n, 4)) * strengths * per_frame
    params = shared + own
    params[:, :3] += 1.0
    return params


def apply_colour(frames: np.ndarray, params: np.ndarray) -> np.ndarray:
    """(n, H, W, 3) uint8 RGB frames with the colour change of :func:`colour_params` applied (saturating)."""
    out = np.empty_like(frames)
    for k, (gain, contrast, saturation, hue) in enumerate(params):
        linear = gain * contrast * _saturation_matrix(saturation) @ _hue_matrix(2 * np.pi * hue)
        mean_luma = float(cv2.mean(frames[k])[:3] @ _LUMA)
        offset = gain * (1 - contrast) * mean_luma  # contrast pivots about the frame's mean grey
        out[k] = cv2.transform(frames[k], np.concatenate([linear, np.full((3, 1), offset)], 1))
    return out


def _hue_matrix(angle: float) -> np.ndarray:
    """Rotation of RGB about the grey axis: turns hues and keeps greys grey."""
    u = np.full(3, 1 / np.sqrt(3))
    cross = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
    return np.cos(angle) * np.eye(3) + (1 - np.cos(angle)) * np.outer(u, u) + np.sin(angle) * cross


def _saturation_matrix(saturation: float) -> np.ndarray:
    return saturation * np.eye(3) + (1 - saturation) * np.tile(_LUMA, (3, 1))


# ---------------------------------------------------------------------------------------------
# Mask errors


def model_like_errors(rng: np.random.Generator, mask: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """(H, W) uint8 {0, 1}: ``mask`` with the mild errors of a good model's prediction.

    Boundary a few pixels too far in or out, a pixel or two of shift, now and then a small
    false-positive blob near the object, a small hole in it, or a lost thin part (a leg, a string).
    ``strength`` scales every error; 0 returns the mask unchanged.
    """
    out = mask.copy()
    area = int(np.count_nonzero(mask))
    if strength <= 0 or area == 0 or rng.random() < 0.15:
        return out
    size = np.sqrt(area)
    out = warp_labels(out, random_similarity(rng, mask.shape, 2 * strength, 0.02 * strength, 0.02 * strength),
                      mask.shape)
    out = grow(out, int(np.round(rng.uniform(-2.5, 2.5) * strength)))
    if rng.random() < 0.15 * strength:
        _drop_thin_parts(rng, out, int(rng.integers(2, 5)))
    radius = max(2.0, 0.08 * size * strength)
    if rng.random() < 0.25:
        _paint_blob(rng, out, _random_point(rng, grow(mask, int(radius) + 2) - mask), radius, 1)
    if rng.random() < 0.25:
        _paint_blob(rng, out, _random_point(rng, mask), radius, 0)
    return out


def flow_like_prior(rng: np.random.Generator, mask: np.ndarray, strength: float = 1.0,
                    wrong_prob: float = 0.1) -> np.ndarray:
    """(H, W) float32 in [0, 1]: ``mask`` deformed as if it were the previous mask warped by flow.

    An affine drift (shift up to ~5% of the object's size, scale 0.9-1.1, a few degrees), a smooth
    non-rigid bend, a grown or shrunk boundary; sometimes blocky (block flow), sometimes with a part
    missing (where fast motion broke the flow), sometimes soft-edged. With ``wrong_prob`` the
    prior is far off (a large shift), so the network learns to check it against the image.
    """
    area = int(np.count_nonzero(mask))
    if strength <= 0 or area == 0:
        return mask.astype(np.float32)
    size, centre = np.sqrt(area), _centroid(mask)
    shift = (rng.uniform(0.5, 1.5) * max(size, 20.0)) if rng.random() < wrong_prob else 0.05 * size * strength
    direction = rng.uniform(0, 2 * np.pi)
    offset = shift * rng.uniform(0.3, 1.0) * np.array([np.cos(direction), np.sin(direction)])
    drift = similarity(centre, centre + offset, rng.uniform(1 - 0.1 * strength, 1 + 0.1 * strength),
                       rng.uniform(-0.1, 0.1) * strength)
    field = smooth_field(rng, mask.shape, rng.uniform(0, 0.06) * size * strength)
    map_x, map_y = remap_maps(drift, mask.shape, field)
    bent = cv2.remap(mask.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    out = grow((bent > 0.5).astype(np.uint8), int(np.round(rng.uniform(-3, 3) * strength)))
    if rng.random() < 0.25:
        out = _blocky(out, int(rng.choice([4, 8])))
    if rng.random() < 0.2:
        _paint_blob(rng, out, _random_point(rng, out), rng.uniform(0.15, 0.35) * size, 0)
    prior = out.astype(np.float32)
    if rng.random() < 0.5:
        prior = np.clip(cv2.GaussianBlur(prior, (0, 0), rng.uniform(0.5, 2.0)), 0.0, 1.0)  # blur rounds past 1
    return prior


def _drop_thin_parts(rng: np.random.Generator, mask: np.ndarray, radius: int) -> None:
    """Erase, in place, about half of the parts of ``mask`` thinner than ``2 * radius`` px (legs, poles)."""
    count, parts = cv2.connectedComponents(thin_part(mask, radius))
    if count > 1:
        dropped = np.concatenate([[False], rng.random(count - 1) < 0.5])
        mask[dropped[parts]] = 0


def outline(mask: np.ndarray) -> np.ndarray:
    """(H, W) uint8 {0, 1}: the pixels of ``mask`` (H, W uint8 {0, 1}) that touch its outside (8-neighbours)."""
    return mask - cv2.erode(mask, np.ones((3, 3), np.uint8))


def thin_part(mask: np.ndarray, radius: int = 2, min_pixels: int = 0) -> np.ndarray:
    """(H, W) uint8 {0, 1}: the pixels of ``mask`` (H, W uint8 {0, 1}) in parts thinner than
    about ``2 * radius`` pixels (legs, poles; at 2, lines, strings, rails): what an opening by a
    disk of that radius removes; only its connected parts of at least ``min_pixels`` pixels (the
    opening also shaves a few off any jagged outline)."""
    out = np.zeros_like(mask)
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0:
        return out
    # Only the object's box and the opening's reach are worked on: a frame is 854x480, an object
    # often a small part of it. Beyond the reach the mask is empty, so the answer is the same.
    reach = 2 * radius + 1
    rows = slice(max(y - reach, 0), y + h + reach)
    cols = slice(max(x - reach, 0), x + w + reach)
    part = mask[rows, cols]
    thin = part - cv2.morphologyEx(part, cv2.MORPH_OPEN, _disk(radius))
    if min_pixels > 0:
        _, parts, stats, _ = cv2.connectedComponentsWithStats(thin, connectivity=8)
        keep = stats[:, cv2.CC_STAT_AREA] >= min_pixels
        keep[0] = False  # the background
        thin = keep[parts].astype(np.uint8)
    out[rows, cols] = thin
    return out


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` dilated by ``pixels`` (> 0) or eroded by ``-pixels`` (< 0) with a disk."""
    if pixels == 0:
        return mask.copy()
    op = cv2.dilate if pixels > 0 else cv2.erode
    return op(mask, _disk(abs(pixels)))


@lru_cache(maxsize=32)
def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _centroid(mask: np.ndarray) -> np.ndarray:
    m = cv2.moments(mask, binaryImage=True)
    return np.array([m["m10"] / m["m00"], m["m01"] / m["m00"]])


def _random_point(rng: np.random.Generator, region: np.ndarray) -> tuple[int, int] | None:
    """(x, y) of a random non-zero pixel of ``region``, or None when it is empty."""
    flat = np.flatnonzero(region)
    if flat.size == 0:
        return None
    y, x = divmod(int(flat[rng.integers(flat.size)]), region.shape[1])
    return x, y


def _paint_blob(rng: np.random.Generator, mask: np.ndarray, point: tuple[int, int] | None, radius: float,
                value: int) -> None:
    """Fill a random ellipse of about ``radius`` px around ``point`` with ``value``, in place."""
    if point is None:
        return
    axes = tuple(int(max(1, round(radius * f))) for f in rng.uniform(0.5, 1.0, 2))
    cv2.ellipse(mask, point, axes, float(rng.uniform(0, 180)), 0, 360, value, thickness=-1)


def _blocky(mask: np.ndarray, block: int) -> np.ndarray:
    """``mask`` as one value per ``block`` x ``block`` cell (majority), the look of a mask warped by block flow."""
    h, w = mask.shape
    small = cv2.resize(mask.astype(np.float32), (-(-w // block), -(-h // block)), interpolation=cv2.INTER_AREA)
    cells = (small > 0.5).astype(np.uint8)
    return np.repeat(np.repeat(cells, block, 0), block, 1)[:h, :w].copy()
