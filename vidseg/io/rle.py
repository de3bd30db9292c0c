"""COCO run-length encoding of masks, and a JSON file of per-frame, per-object RLEs.

The encoding is byte-for-byte the one of ``pycocotools.mask.encode`` (column-major runs,
starting with background, compressed into a LEB128-like ASCII string), so the output can be
read by any COCO tool.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TypedDict

import numpy as np

from vidseg.errors import InputError, OutputError
from vidseg.io.atomic import CommitOnExit, write_text_atomic



class RleDict(TypedDict):
    """A COCO compressed RLE: ``size`` is [height, width]."""

    size: list[int]
    counts: str


def encode_rle(mask: np.ndarray) -> RleDict:
    """Encode a (H, W) boolean mask as ``{"size": [h, w], "counts": str}`` (COCO compressed RLE)."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be (H, W), got shape {mask.shape}")
    height, width = mask.shape
    return {"size": [height, width], "counts": _counts_to_string(_run_lengths(mask))}


def decode_rle(rle: RleDict) -> np.ndarray:
    """Decode a COCO RLE (compressed string or list of counts) to a (H, W) bool mask."""
    try:
        height, width = (int(v) for v in rle["size"])
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"not a COCO RLE (need 'size': [h, w] and 'counts'): {error}") from error
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    runs = _string_to_counts(counts) if isinstance(counts, str) else [int(c) for c in counts]
    if sum(runs) != height * width or min(runs, default=0) < 0:
        raise InputError(f"corrupt RLE: its runs cover {sum(runs)} pixels, not {height}x{width}; re-export it")
    values = np.arange(len(runs)) % 2 == 1  # runs alternate background, object, ...
    flat = np.repeat(values, runs)
    return flat.reshape(width, height).T  # column-major, like COCO


def _run_lengths(mask: np.ndarray) -> list[int]:
    """Run lengths of the column-major flattening, the first run being background (maybe 0)."""
    flat = mask.astype(bool).ravel(order="F")
    if flat.size == 0:
        return [0]
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat[0] else runs


def _counts_to_string(runs: list[int]) -> str:
    """pycocotools' rleToString: each run (minus the one two back, from the third on) as
    little-endian 5-bit groups, 0x20 meaning "more follows", 0x10 the sign, offset by 48."""
    chars = []
    for i, run in enumerate(runs):
        x = run - runs[i - 2] if i > 2 else run
        more = True
        while more:
            c = x & 0x1F
            x >>= 5  # arithmetic shift, as on C's signed long
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            chars.append(chr(c + 48))
    return "".join(chars)


def _string_to_counts(text: str) -> list[int]:
    """pycocotools' rleFrString, the inverse of _counts_to_string."""
    runs: list[int] = []
    pos = 0
    while pos < len(text):
        x, shift, more = 0, 0, True
        while more:
            if pos >= len(text):
                raise InputError("corrupt RLE: the counts string ends in the middle of a number; re-export it")
            c = ord(text[pos]) - 48
            x |= (c & 0x1F) << shift
            more = bool(c & 0x20)
            pos += 1
            shift += 5
            if not more and c & 0x10:
                x |= -1 << shift
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


class RleJsonWriter(CommitOnExit):
    """Accumulate per-frame label maps as RLE and write one JSON file on ``close()``.

    File layout::

        {"format": "coco-rle", "height": h, "width": w,
         "frames": [{"index": i, "stem": "00000", "objects": {"1": {"size": [h, w], "counts": "..."}}}]}

    Only the objects present in a frame are listed for it. Frames are written in the order added.
    Encoding happens in ``add`` (the RLE is far smaller than the label map). Used as a context
    manager, nothing is written when the block raises.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._frames: list[dict] = []
        self._size: tuple[int, int] | None = None
        self._closed = False

    def add(self, index: int, stem: str, labels: np.ndarray) -> None:
        """Add frame ``index`` (named ``stem``) with (H, W) integer object ids, 0 background."""
        labels = np.asarray(labels)
        if labels.ndim != 2:
            raise ValueError(f"labels must be (H, W), got shape {labels.shape}")
        if self._size is None:
            self._size = labels.shape
        elif labels.shape != self._size:
            raise ValueError(f"frame {index} is {labels.shape}, earlier frames were {self._size}")
        objects = {str(int(k)): encode_rle(labels == k) for k in np.unique(labels) if k != 0}
        self._frames.append({"index": int(index), "stem": str(stem), "objects": objects})

    def close(self) -> None:
        """Write the JSON file atomically (once; later calls do nothing)."""
        if self._closed:
            return
        self._closed = True
        height, width = self._size or (0, 0)
        document = {"format": "coco-rle", "height": height, "width": width, "frames": self._frames}
        try:
            write_text_atomic(self.path, json.dumps(document, separators=(",", ":")))
        except OSError as error:
            raise OutputError(f"cannot write {self.path} ({error}); check that its folder is writable") from error

    def abort(self) -> None:
        """Write nothing: an interrupted run leaves no JSON of part of the video."""
        self._closed = True


def write_rle_json(path: str | os.PathLike, frames) -> None:
    """Write ``frames``, an iterable of ``(index, stem, labels)``, as one RLE JSON file."""
    with RleJsonWriter(path) as writer:
        for index, stem, labels in frames:
            writer.add(index, stem, labels)


def read_rle_json(path: str | os.PathLike) -> list[tuple[int, str, np.ndarray]]:
    """Read a file written by RleJsonWriter back into ``(index, stem, labels)``, labels (H, W) uint8.

    Objects are painted in ascending id order, so a pixel claimed by two objects gets the larger id.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return [_frame_labels(frame, document["height"], document["width"]) for frame in document["frames"]]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        raise InputError(f"{path} is not a vidseg RLE JSON file ({error!r}); give a file written by vidseg") from error


def _frame_labels(frame: dict, height: int, width: int) -> tuple[int, str, np.ndarray]:
    labels = np.zeros((height, width), dtype=np.uint8)
    for key in sorted(frame["objects"], key=int):
        labels[decode_rle(frame["objects"][key])] = int(key)
    return int(frame["index"]), str(frame["stem"]), labels
