"""Synthetic training clips from single annotated frames (the static-image pre-training of STM).

An object is cut out of one annotated frame with its mask and pasted over another sequence's frame;
three frames are made by moving it with random affine motion plus a smooth non-rigid bend, while
the background moves a little (the camera). Sometimes a second object, cut from yet another frame,
passes near it, in front of it (hiding part of it) or behind. The target's mask is exactly its
visible part: the pixels where its own coverage is at least one half and no object in front covers
half. Thirty annotated videos give thousands of such clips with motions the videos never show.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidseg.data.motion import compose_affine
from vidseg.train import augment
from vidseg.train.clips import FrameStore, pick_object

_ATTEMPTS = 4
_DISTRACTOR_PROB = 0.4


@dataclass(frozen=True)
class Cutout:
    """An object to paste: its whole source ``frame`` (h, w, 3) uint8, ``alpha`` (h, w) float32 {0, 1},
    and its bounding ``box`` (x, y, w, h) in the frame."""

    frame: np.ndarray
    alpha: np.ndarray
    box: tuple[int, int, int, int]

    @property
    def centre(self) -> tuple[float, float]:
        x, y, w, h = self.box
        return x + (w - 1) / 2, y + (h - 1) / 2

    @property
    def extent(self) -> float:
        """The longer side of the box, px."""
        return float(max(self.box[2:]))


@dataclass(frozen=True)
class _Patch:
    """One object on one frame, rendered only where it can be: ``image`` (h, w, 3) float32 and
    ``alpha`` (h, w) float32 of the output window whose top-left pixel is (``x``, ``y``)."""

    x: int
    y: int
    image: np.ndarray
    alpha: np.ndarray


def composite_clip(rng: np.random.Generator, store: FrameStore, areas: list[np.ndarray], size_hw: tuple[int, int],
                   scale_range: tuple[float, float], min_pixels: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A synthetic clip [reference, previous, current]: frames (3, H, W, 3) uint8 and the target's
    visible mask (3, H, W) uint8 {0, 1}; None when the store has no object of ``min_pixels`` pixels.

    ``areas``: :func:`vidseg.train.clips.object_areas` of ``store``.
    """
    for _ in range(_ATTEMPTS):
        target_seq = int(rng.integers(len(store)))
        target = cut_out(rng, store, areas, target_seq, min_pixels)
        if target is None:
            continue
        background = _background(rng, _random_frame(rng, store, _other(rng, len(store), target_seq)),
                                 size_hw, scale_range)
        target_poses = object_poses(rng, target, size_hw)
        layers = [(_render(rng, target, target_poses, size_hw), True)]
        if rng.random() < _DISTRACTOR_PROB:
            distractor = cut_out(rng, store, areas, _other(rng, len(store), target_seq), min_pixels)
            if distractor is not None:
                near = target_poses[2][:, :2] @ np.asarray(target.centre) + target_poses[2][:, 2]
                poses = object_poses(rng, distractor, size_hw, near=(near, target.extent * _scale_of(target_poses[2])))
                in_front = rng.random() < 0.5
                layers.insert(len(layers) if in_front else 0, (_render(rng, distractor, poses, size_hw), False))
        frames, masks = _paint(background, layers)
        if np.count_nonzero(masks[0]) >= min_pixels:
            return frames, masks
    return None


def cut_out(rng: np.random.Generator, store: FrameStore, areas: list[np.ndarray], seq: int,
            min_pixels: int) -> Cutout | None:
    """A random object of sequence ``seq`` with at least ``min_pixels`` pixels, or None."""
    picked = pick_object(rng, areas[seq], min_pixels)
    if picked is None:
        return None
    t, obj = picked
    solid = (store.masks[seq][t] == obj).astype(np.uint8)
    return Cutout(frame=store.frames[seq][t], alpha=solid.astype(np.float32), box=cv2.boundingRect(solid))


def object_poses(rng: np.random.Generator, cutout: Cutout, size_hw: tuple[int, int],
                 near: tuple[np.ndarray, float] | None = None) -> np.ndarray:
    """(3, 2, 3) source-to-output affines of ``cutout`` on [reference, previous, current].

    The current pose is random (anywhere mostly in view, or next to ``near`` = (point, extent) so
    two objects meet); the previous one differs by a small motion, the reference by a large one.
    """
    height, width = size_hw
    short = min(height, width)
    scale = float(np.clip(rng.uniform(0.25, 0.75) * short / cutout.extent, 0.2, 2.0))
    if near is None:
        position = rng.uniform((0.15 * width, 0.15 * height), (0.85 * width, 0.85 * height))
    else:
        direction = rng.uniform(0, 2 * np.pi)
        reach = rng.uniform(0.2, 1.0) * 0.5 * (near[1] + scale * cutout.extent)
        position = near[0] + reach * np.array([np.cos(direction), np.sin(direction)])
    mirror = np.array([[-1.0, 0.0, 2 * cutout.centre[0]], [0.0, 1.0, 0.0]]) if rng.random() < 0.5 else np.eye(2, 3)
    current = compose_affine(augment.similarity(cutout.centre, position, scale, rng.uniform(-0.25, 0.25)), mirror)
    extent = scale * cutout.extent
    small = augment.random_similarity(rng, size_hw, 0.1 * extent, 0.08, 0.12, about=position)
    previous = compose_affine(small, current)
    large = augment.random_similarity(rng, size_hw, 0.3 * short, 0.2, 0.4, about=position)
    return np.stack([compose_affine(large, previous), previous, current])


def _render(rng: np.random.Generator, cutout: Cutout, poses: np.ndarray,
            size_hw: tuple[int, int]) -> list[_Patch | None]:
    """``cutout`` warped by each pose and its own smooth bend; bilinear for pixels and coverage alike.

    Only the window the object can reach is rendered, so the cost follows the object's size.
    """
    patches: list[_Patch | None] = []
    amplitude = rng.uniform(0.0, 0.05, len(poses)) * _scale_of(poses[-1]) * cutout.extent
    for pose, bend in zip(poses, amplitude):
        field = augment.smooth_field(rng, size_hw, bend)
        window = _window(pose, cutout.box, size_hw, margin=int(np.ceil(1.5 * bend)) + 2)
        if window is None:
            patches.append(None)
            continue
        x0, y0, x1, y1 = window
        map_x, map_y = augment.remap_maps(pose, (y1 - y0, x1 - x0), field[y0:y1, x0:x1], origin=(x0, y0))
        map_1, map_2 = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)  # one conversion serves both remaps
        image = cv2.remap(cutout.frame, map_1, map_2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        alpha = cv2.remap(cutout.alpha, map_1, map_2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        patches.append(_Patch(x0, y0, image.astype(np.float32), alpha))
    return patches


def _window(pose: np.ndarray, box: tuple[int, int, int, int], size_hw: tuple[int, int],
            margin: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), end exclusive: the part of the output that ``box`` warped by ``pose``, grown
    by ``margin``, covers; None when that is outside the output."""
    x, y, w, h = box
    corners = np.array([[x - 1, y - 1], [x + w, y - 1], [x - 1, y + h], [x + w, y + h]], float)
    mapped = corners @ pose[:, :2].T + pose[:, 2]
    x0, y0 = np.maximum(np.floor(mapped.min(0)).astype(int) - margin, 0)
    x1, y1 = np.minimum(np.ceil(mapped.max(0)).astype(int) + margin + 1, (size_hw[1], size_hw[0]))
    return (int(x0), int(y0), int(x1), int(y1)) if x1 > x0 and y1 > y0 else None


def _paint(background: np.ndarray, layers: list[tuple[list[_Patch | None], bool]]) -> tuple[np.ndarray, np.ndarray]:
    """Layers (back to front; the flag marks the target) over ``background`` (3, H, W, 3) float32, in place.

    Returns frames (3, H, W, 3) uint8 and the target's visible mask (3, H, W) uint8.
    """
    visible = np.zeros(background.shape[:3], np.uint8)
    for patches, is_target in layers:
        for t, patch in enumerate(patches):
            if patch is None:
                continue
            h, w = patch.alpha.shape
            region = background[t, patch.y:patch.y + h, patch.x:patch.x + w]
            alpha = patch.alpha[..., None]
            region += (patch.image - region) * alpha
            solid = patch.alpha >= 0.5
            if is_target:
                visible[t, patch.y:patch.y + h, patch.x:patch.x + w] = solid
            else:
                visible[t, patch.y:patch.y + h, patch.x:patch.x + w] &= ~solid
    return np.clip(np.rint(background), 0, 255).astype(np.uint8), visible


def _background(rng: np.random.Generator, frame: np.ndarray, size_hw: tuple[int, int],
                scale_range: tuple[float, float]) -> np.ndarray:
    """(3, H, W, 3) float32: a random crop of ``frame`` seen by a slightly moving camera."""
    src_h, src_w = frame.shape[:2]
    zoom = max(rng.uniform(*scale_range), size_hw[0] / src_h, size_hw[1] / src_w)
    half = np.array([size_hw[1], size_hw[0]]) / (2 * zoom)
    low = half - 0.5
    # max: when the window spans the frame exactly, rounding can put high a hair below low
    centre = rng.uniform(low, np.maximum(np.array([src_w, src_h]) - 0.5 - half, low))
    current = augment.similarity(centre, augment.centre_of(size_hw), zoom)
    width = size_hw[1]
    previous = compose_affine(augment.random_similarity(rng, size_hw, 0.02 * width, 0.02, 0.01), current)
    reference = compose_affine(augment.random_similarity(rng, size_hw, 0.06 * width, 0.05, 0.03), previous)
    return np.stack([augment.warp_frame(frame, m, size_hw, cv2.BORDER_REFLECT101)
                     for m in (reference, previous, current)]).astype(np.float32)


def _random_frame(rng: np.random.Generator, store: FrameStore, seq: int) -> np.ndarray:
    return store.frames[seq][rng.integers(len(store.frames[seq]))]


def _other(rng: np.random.Generator, count: int, seq: int) -> int:
    """A random sequence other than ``seq`` (``seq`` itself when it is the only one)."""
    if count == 1:
        return seq
    return int((seq + rng.integers(1, count)) % count)


def _scale_of(matrix: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
