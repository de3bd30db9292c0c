"""The session's memory of every label map it has produced, run-length encoded.

A raw uint8 map at 854x480 is 400 KB, so a few thousand frames would hold over a gigabyte. Label
maps are a few large regions, so row-major run-length encoding shrinks one to a few KB (3.6 KB for
two discs at 854x480), and both ways cost well under a millisecond (numpy only), which is far
less than the PNG encoder (4 ms) and negligible beside a frame's propagation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class EncodedLabels:
    """One (H, W) uint8 label map as runs in row-major order: run i holds ``values[i]`` and ends
    (exclusive) at flat index ``ends[i]``. A map whose runs would take more room than its pixels
    (noise) is kept raw instead: ``raw`` set, ``ends`` and ``values`` empty."""

    shape: tuple[int, int]
    ends: np.ndarray  # (R,) uint32
    values: np.ndarray  # (R,) uint8
    raw: np.ndarray | None = None  # (H, W) uint8

    @property
    def nbytes(self) -> int:
        return self.ends.nbytes + self.values.nbytes + (0 if self.raw is None else self.raw.nbytes)


def encode_labels(labels: np.ndarray) -> EncodedLabels:
    """(H, W) uint8 -> runs (or the raw map when runs would be larger)."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise ValueError(f"labels must be (H, W) uint8, got shape {labels.shape} dtype {labels.dtype}")
    flat = labels.ravel()
    if flat.size == 0:
        return EncodedLabels(labels.shape, np.zeros(0, np.uint32), np.zeros(0, np.uint8))
    starts = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if 5 * (len(starts) + 1) >= flat.size:  # 4 + 1 bytes per run against 1 byte per pixel
        return EncodedLabels(labels.shape, np.zeros(0, np.uint32), np.zeros(0, np.uint8), labels.copy())
    ends = np.append(starts, flat.size).astype(np.uint32)
    values = flat[np.concatenate(([0], starts))]
    return EncodedLabels(labels.shape, ends, values)


def decode_labels(encoded: EncodedLabels) -> np.ndarray:
    """The (H, W) uint8 label map back, a new array the caller may change."""
    if encoded.raw is not None:
        return encoded.raw.copy()
    lengths = np.diff(encoded.ends, prepend=np.uint32(0))
    return np.repeat(encoded.values, lengths).reshape(encoded.shape)


@dataclass
class ResultStore:
    """The latest label map of each segmented frame, by frame index."""

    _frames: dict[int, EncodedLabels] = field(default_factory=dict)

    def put(self, frame: int, labels: np.ndarray) -> None:
        self._frames[frame] = encode_labels(labels)

    def get(self, frame: int) -> np.ndarray | None:
        """Frame ``frame``'s (H, W) uint8 label map, or None if it has not been segmented."""
        encoded = self._frames.get(frame)
        return None if encoded is None else decode_labels(encoded)

    def __contains__(self, frame: int) -> bool:
        return frame in self._frames

    def frames(self) -> list[int]:
        """The segmented frames' indices, in the order they were first stored."""
        return list(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def nbytes(self) -> int:
        """Memory held by the encoded maps (arrays only)."""
        return sum(e.nbytes for e in self._frames.values())
