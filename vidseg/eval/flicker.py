"""Temporal flicker of a mask sequence: how much each mask disagrees with the previous one carried forward.

As DESIGN.md ("Measuring") defines it, in percent::

    flicker = 100 * mean over frames t >= 1 of  mean over objects k of  1 - IoU(M_t == k, warp(M_{t-1} == k))

- the warp carries frame t-1's mask onto frame t's grid by the backward flow ``dense_flow(frame_t,
  frame_{t-1})`` (see :mod:`vidseg.flow`); each object's binary mask is warped bilinearly and
  thresholded at 0.5;
- the flow setting is fixed, so numbers compare: :data:`FLICKER_FLOW`, DIS "medium" at half
  resolution (the flow baseline's own setting);
- the objects of frame t are the non-zero ids present in M_{t-1} or M_t; a frame with none (empty
  vs empty) counts as 0 flicker. An object warped out of view and absent from M_t counts as 0 too.

Masks that follow the motion score near 0; masks that jitter, or stay put while the object moves,
score higher. Ground truth is not 0 (flow errors, deformation, occlusion): report it as the floor.

A sequence's flows are computed once by :class:`SequenceFlows` and can score several mask sets
(every method of a benchmark and the ground truth)::

    flows = SequenceFlows("JPEGImages/dog-agility")
    gt = sequence_flicker("JPEGImages/dog-agility", "Annotations/dog-agility", flows)
    ours = sequence_flicker("JPEGImages/dog-agility", "out/flow/dog-agility", flows)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vidseg.errors import InputError
from vidseg.eval.davis import read_index_png
from vidseg.eval.metrics import region_iou
from vidseg.flow import FlowConfig, backward_warp, dense_flow, resize_flow
from vidseg.io.frames import ArraySource, FrameSource, open_frames
from vidseg.ops.images import downscale_grey

FLICKER_FLOW = FlowConfig(mode="medium", scale=0.5)

FramesInput = str | os.PathLike | np.ndarray | FrameSource


class SequenceFlows:
    """The backward flows of one sequence (frame t -> t-1 for t >= 1), computed on first use and kept.

    frames: a video file, a folder of frames, a (T, H, W, 3) uint8 array or an open FrameSource
        (not closed here). The flows are stored at the flow's own resolution (half size with
        :data:`FLICKER_FLOW`: 854x480 x 80 frames is about 65 MB) and upsampled when asked for.
    """

    def __init__(self, frames: FramesInput, config: FlowConfig = FLICKER_FLOW) -> None:
        self.frames = frames
        self.config = config
        self._stems: list[str] | None = None
        self._shape: tuple[int, int] = (0, 0)
        self._small: list[np.ndarray] = []  # index t-1 holds flow t -> t-1, hxwx2 float32

    @property
    def stems(self) -> list[str]:
        """One name per frame (mask files are ``<stem>.png``)."""
        self._compute()
        return list(self._stems or [])

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) of the frames."""
        self._compute()
        return self._shape

    def backward(self, t: int) -> np.ndarray:
        """``dense_flow(frame_t, frame_{t-1})`` as HxWx2 float32 on frame t's grid, 1 <= t < len."""
        self._compute()
        if not 1 <= t <= len(self._small):
            raise IndexError(f"backward flow exists for frames 1..{len(self._small)}, not {t}")
        return resize_flow(self._small[t - 1], *self._shape)

    def _compute(self) -> None:
        """Decode the frames once, in order, keeping only the previous small grey frame."""
        if self._stems is not None:
            return
        source, owned = _as_source(self.frames)
        try:
            self._shape = (source.height, source.width)
            exact = FlowConfig(mode=self.config.mode, scale=1.0)
            previous = None
            for _, frame in source.iter_frames():
                grey = downscale_grey(frame, self.config.scale)
                if previous is not None:
                    # Same numbers as dense_flow(frame, previous_frame, self.config), before upsampling.
                    self._small.append(dense_flow(grey, previous, exact))
                previous = grey
            self._stems = list(source.stems)
        finally:
            if owned:
                source.close()


def _as_source(frames: FramesInput) -> tuple[FrameSource, bool]:
    """A FrameSource for ``frames`` and whether this module opened it (and must close it)."""
    if isinstance(frames, FrameSource):
        return frames, False
    if isinstance(frames, np.ndarray):
        return ArraySource(frames), True
    return open_frames(frames), True


def pair_flicker(previous: np.ndarray, current: np.ndarray, flow: np.ndarray) -> float:
    """Flicker of one frame pair as a fraction (0..1): mean over objects of ``1 - IoU``.

    previous, current: (H, W) uint8 object ids of frames t-1 and t; flow: HxWx2
    ``dense_flow(frame_t, frame_{t-1})``. Objects: non-zero ids in either mask; none gives 0.
    """
    if previous.shape != current.shape:
        raise InputError(f"masks of consecutive frames differ in size: {previous.shape} vs {current.shape}")
    ids = np.union1d(np.unique(previous), np.unique(current))
    ids = ids[ids != 0]
    if ids.size == 0:
        return 0.0
    one_hot = np.stack([previous == k for k in ids], axis=-1).astype(np.float32)
    warped = backward_warp(one_hot, flow).reshape(*previous.shape, ids.size) >= 0.5
    return float(np.mean([1.0 - region_iou(warped[..., i], current == k) for i, k in enumerate(ids)]))


def sequence_flicker(
    frames_dir_or_video: FramesInput, masks_dir: str | os.PathLike, flows: SequenceFlows | None = None
) -> float:
    """Flicker of the masks in ``masks_dir`` (one ``<frame stem>.png`` per frame), in percent (0..100).

    frames_dir_or_video: the sequence's frames (a video, a folder, a (T, H, W, 3) uint8 array).
    flows: the sequence's :class:`SequenceFlows`, to share among several mask sets (they hold their own
    frames, so ``frames_dir_or_video`` then only names the sequence in messages); default: computed
    here with :data:`FLICKER_FLOW` and dropped afterwards.
    """
    flows = SequenceFlows(frames_dir_or_video) if flows is None else flows
    stems = flows.stems
    if len(stems) < 2:
        raise InputError(f"flicker needs at least 2 frames; the sequence has {len(stems)}")
    masks_dir = Path(masks_dir)
    previous = _read_frame_mask(masks_dir, stems[0], flows.shape)
    values = []
    for t in range(1, len(stems)):
        current = _read_frame_mask(masks_dir, stems[t], flows.shape)
        values.append(pair_flicker(previous, current, flows.backward(t)))
        previous = current
    return 100.0 * float(np.mean(values))


def _read_frame_mask(masks_dir: Path, stem: str, shape: tuple[int, int]) -> np.ndarray:
    """The (H, W) uint8 ids of frame ``stem``, checked to exist and to match the frames' size."""
    path = masks_dir / f"{stem}.png"
    if not path.is_file():
        raise InputError(f"mask of frame {stem} is missing: expected {path}; write one mask per frame")
    labels = read_index_png(path)
    if labels.shape != shape:
        raise InputError(
            f"mask {path} is {labels.shape[1]}x{labels.shape[0]} but the frames are {shape[1]}x{shape[0]} "
            "(width x height); write masks at the frames' size"
        )
    return labels
