"""Training samples for the propagation network: 3-frame clips of one object, with the cues it sees.

One sample is [reference, previous, current] frames of one object with their ground-truth masks,
plus what inference hands the network: the previous frame's mask as the network itself would have
predicted it (``prev_mask``, into the memory) and a flow-warped-looking previous mask on the current
frame (``prior``, the MaskTrack input). Samples are real clips from the store (random gaps,
reversed time, zoom, flip, colour) or synthetic composites (:mod:`vidseg.train.composite`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import cv2
import numpy as np
import torch

from vidseg.data.motion import compose_affine
from vidseg.errors import InputError
from vidseg.train import augment
from vidseg.train.clips import FrameStore, SeededSamples, pick_object
from vidseg.train.composite import composite_clip

__all__ = ["FrameStore", "VosSampleConfig", "VosTrainingSet", "frame_triplet"]  # FrameStore: one import for trainers

_ATTEMPTS = 50


@dataclass(frozen=True)
class VosSampleConfig:
    """How training samples are drawn. Sizes in pixels of the store's (already reduced) frames.

    ``size``: (H, W) of the crops. ``max_gap``: largest previous-to-current frame distance; the
    reference is any earlier frame (frame 0 half the time). ``synthetic_ratio``: share of composite
    clips. ``reverse_prob``: share of clips played backwards. ``scale_range``: zoom before the crop.
    Colour: ``brightness``, ``contrast``, ``saturation`` (relative changes), ``hue`` (share of the
    colour circle), ``frame_colour_jitter`` (per-frame change, a share of those). Mask errors:
    ``prev_mask_noise`` and ``prior_noise`` scale the errors (0 = exact ground truth),
    ``wrong_prior_prob`` is the share of far-off priors. ``min_pixels``: the smallest object the
    reference frame may show.
    """

    size: tuple[int, int] = (192, 320)
    max_gap: int = 8
    synthetic_ratio: float = 0.3
    reverse_prob: float = 0.3
    scale_range: tuple[float, float] = (0.8, 1.25)
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.3
    hue: float = 0.03
    frame_colour_jitter: float = 0.25
    prev_mask_noise: float = 1.0
    prior_noise: float = 1.0
    wrong_prior_prob: float = 0.1
    min_pixels: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if len(self.size) != 2 or not all(isinstance(v, int) and v >= 16 for v in self.size):
            raise InputError(f"size is {self.size!r}; use (height, width), whole numbers of at least 16")
        for name in ("max_gap", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (name == "max_gap"):
                raise InputError(f"{name} is {value!r}; use a whole number of at least {int(name == 'max_gap')}")
        low, high = self.scale_range
        if not 0 < low <= high:
            raise InputError(f"scale_range is {self.scale_range!r}; use (low, high) with 0 < low <= high")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("size", "scale_range", "seed", "max_gap"):
                continue
            high = 1 if f.name in ("synthetic_ratio", "reverse_prob", "wrong_prior_prob") else float("inf")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= high:
                raise InputError(f"{f.name} is {value!r}; use a number from 0 to {high}")


class VosTrainingSet(SeededSamples):
    """``length`` random samples drawn from ``store``; item i is the same for the same (config.seed, i).

    Each item is a dict of float32 tensors, with (H, W) = ``config.size``:
    ``frames`` (3, 3, H, W) RGB in [0, 1], order [reference, previous, current];
    ``masks`` (3, 1, H, W) in {0, 1}, the chosen object on each frame;
    ``prev_mask`` (1, H, W) in {0, 1}, masks[1] with the errors of a model's prediction;
    ``prior`` (1, H, W) in [0, 1], masks[2] deformed like a flow-warped previous mask.
    """

    def __init__(self, store: FrameStore, config: VosSampleConfig | None = None, length: int = 10000) -> None:
        super().__init__(store, config or VosSampleConfig(), length)

    def sample(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """One sample drawn with ``rng`` (see the class docstring)."""
        c = self.config
        clip = None
        if rng.random() < c.synthetic_ratio:
            clip = composite_clip(rng, self.store, self.areas, c.size, c.scale_range, c.min_pixels)
        frames, masks = clip if clip is not None else self._real_clip(rng)
        frames = augment.apply_colour(frames, augment.colour_params(
            rng, 3, c.brightness, c.contrast, c.saturation, c.hue, c.frame_colour_jitter))
        prev_mask = augment.model_like_errors(rng, masks[1], c.prev_mask_noise)
        prior = augment.flow_like_prior(rng, masks[2], c.prior_noise, c.wrong_prior_prob)
        # Converted in numpy: torch's intra-op threads make these small copies several times slower
        # when the 2 cores are busy (a DataLoader worker beside the training step).
        return {
            "frames": torch.from_numpy(np.multiply(frames.transpose(0, 3, 1, 2), np.float32(1 / 255),
                                                   dtype=np.float32, order="C")),
            "masks": torch.from_numpy(masks[:, None].astype(np.float32)),
            "prev_mask": torch.from_numpy(prev_mask[None].astype(np.float32)),
            "prior": torch.from_numpy(prior[None].astype(np.float32, copy=False)),
        }

    def _real_clip(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Frames (3, H, W, 3) uint8 and masks (3, H, W) uint8 {0, 1} of one object of one sequence."""
        seq, times, obj = self._pick_real(rng)
        frames = self.store.frames[seq][times]
        masks = (self.store.masks[seq][times] == obj).astype(np.uint8)
        size = self.config.size
        matrices = _crop_matrices(rng, masks[2], frames.shape[1:3], size, self.config.scale_range)
        return (np.stack([augment.warp_frame(f, m, size) for f, m in zip(frames, matrices)]),
                np.stack([augment.warp_labels(k, m, size) for k, m in zip(masks, matrices)]))

    def _pick_real(self, rng: np.random.Generator) -> tuple[int, list[int], int]:
        """(sequence, [t_ref, t_prev, t_cur], object id) with the object visible on the reference frame."""
        c = self.config
        for _ in range(_ATTEMPTS):
            seq = int(rng.integers(len(self.store)))
            times = frame_triplet(rng, len(self.store.frames[seq]), c.max_gap, c.reverse_prob)
            picked = pick_object(rng, self.areas[seq], c.min_pixels, frame=times[0])
            if picked is not None:
                return seq, times, picked[1]
        # Objects that are rarely visible: start from a frame known to show one.
        seq = next(k for k, a in enumerate(self.areas) if (a[:, 1:] >= c.min_pixels).any())
        t, obj = pick_object(rng, self.areas[seq], c.min_pixels)
        return seq, [t, t, t], obj


def frame_triplet(rng: np.random.Generator, num_frames: int, max_gap: int, reverse_prob: float) -> list[int]:
    """[t_ref, t_prev, t_cur] of a sequence of ``num_frames``: t_prev = t_cur - gap (1..max_gap),
    t_ref earlier than t_prev (frame 0 half the time); with ``reverse_prob`` time runs backwards."""
    if num_frames < 2:
        return [0, 0, 0]
    gap = int(rng.integers(1, min(max_gap, num_frames - 1) + 1))
    t_cur = int(rng.integers(gap, num_frames))
    t_prev = t_cur - gap
    t_ref = 0 if t_prev == 0 or rng.random() < 0.5 else int(rng.integers(0, t_prev))
    times = [t_ref, t_prev, t_cur]
    if rng.random() < reverse_prob:
        times = [num_frames - 1 - t for t in times]
    return times


def _crop_matrices(rng: np.random.Generator, current_mask: np.ndarray, src_hw: tuple[int, int],
                   size_hw: tuple[int, int], scale_range: tuple[float, float]) -> np.ndarray:
    """(3, 2, 3) source-to-crop affines: one random zoom and crop window for the clip, framed so the
    current object is mostly in view, a random mirror, and a few pixels of jitter per frame."""
    src_h, src_w = src_hw
    zoom = max(rng.uniform(*scale_range), size_hw[0] / src_h, size_hw[1] / src_w)  # the window fits the frame
    half = np.array([size_hw[1], size_hw[0]]) / (2 * zoom)
    x, y, w, h = (float(v) for v in cv2.boundingRect(current_mask))  # w = 0 when empty
    if w > 0:
        # Slack lets the object sit anywhere inside the window, or up to a quarter window past its edge.
        slack = np.maximum(half - np.array([w, h]) / 2, 0) + 0.25 * half
        centre = np.array([x + (w - 1) / 2, y + (h - 1) / 2]) + rng.uniform(-slack, slack)
    else:
        centre = rng.uniform((0, 0), (src_w, src_h))
    centre = np.clip(centre, half - 0.5, np.array([src_w, src_h]) - 0.5 - half)
    base = augment.similarity(centre, augment.centre_of(size_hw), zoom)
    if rng.random() < 0.5:
        base = compose_affine(augment.hflip(size_hw[1]), base)
    return np.stack([compose_affine(augment.random_similarity(rng, size_hw, 3.0, 0.02, 0.015), base)
                     for _ in range(3)])
