"""Middlebury ``.flo`` files and the endpoint error, to measure flow against ground truth.

``.flo`` layout (little-endian): float32 magic 202021.25 (the bytes "PIEH"), int32 width, int32
height, then height*width*2 float32 values, (u, v) interleaved in row-major order. Values above 1e9
mark pixels whose flow is unknown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidseg.errors import InputError
from vidseg.io.atomic import write_bytes_atomic

FLO_MAGIC = 202021.25
UNKNOWN_THRESHOLD = 1e9


def read_flo(path: str | os.PathLike) -> np.ndarray:
    """Read a Middlebury ``.flo`` file. Returns HxWx2 float32 (u = dx, v = dy)."""
    try:
        data = open(path, "rb").read()
    except OSError as exc:
        raise InputError(f"cannot read flow file {os.fspath(path)!r}: {exc.strerror}") from exc
    if len(data) < 12 or np.frombuffer(data[:4], "<f4")[0] != FLO_MAGIC:
        raise InputError(f"{os.fspath(path)!r} is not a Middlebury .flo file (bad magic number)")
    width, height = (int(v) for v in np.frombuffer(data[4:12], "<i4"))
    expected = 12 + 4 * 2 * width * height
    if width <= 0 or height <= 0 or len(data) != expected:
        raise InputError(
            f"{os.fspath(path)!r} is truncated or corrupt: header says {width}x{height}, "
            f"{len(data)} bytes instead of {expected}"
        )
    return np.frombuffer(data[12:], "<f4").reshape(height, width, 2).astype(np.float32)


def write_flo(path: str | os.PathLike, flow: np.ndarray) -> None:
    """Write HxWx2 ``flow`` as a Middlebury ``.flo`` file (atomically)."""
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise InputError(f"flow must be HxWx2 (u, v), got shape {flow.shape}")
    height, width = flow.shape[:2]
    header = np.array([FLO_MAGIC], "<f4").tobytes() + np.array([width, height], "<i4").tobytes()
    write_bytes_atomic(path, header + np.ascontiguousarray(flow, dtype="<f4").tobytes())


def known_flow_mask(gt: np.ndarray) -> np.ndarray:
    """Bool HxW, True where ground truth ``gt`` (HxWx2) is known (finite, both |u|, |v| <= 1e9)."""
    return np.all(np.isfinite(gt) & (np.abs(gt) <= UNKNOWN_THRESHOLD), axis=-1)


def endpoint_error(flow: np.ndarray, gt: np.ndarray) -> float:
    """Mean endpoint error ``|flow - gt|`` in pixels over the pixels where ``gt`` is known.

    flow, gt: HxWx2, same shape.
    """
    if flow.shape != gt.shape or flow.ndim != 3 or flow.shape[2] != 2:
        raise InputError(f"flow {flow.shape} and ground truth {gt.shape} must both be HxWx2 of the same size")
    known = known_flow_mask(gt)
    if not known.any():
        raise InputError("ground truth has no known pixels (all above 1e9); check the .flo file")
    diff = flow[known].astype(np.float64) - gt[known].astype(np.float64)
    return float(np.mean(np.sqrt(np.sum(diff**2, axis=-1))))


@dataclass(frozen=True)
class FlowPair:
    """One Middlebury frame pair: frame10 and frame11 (HxWx3 uint8 RGB), gt HxWx2 float32 10 -> 11."""

    name: str
    frame10: np.ndarray
    frame11: np.ndarray
    gt: np.ndarray


def load_middlebury_pairs(root: str | os.PathLike) -> list[FlowPair]:
    """The pairs under ``root`` (``<name>/frame10.png, frame11.png, flow10.flo``) that have ground truth.

    Sorted by name; pairs without ``flow10.flo`` are left out.
    """
    from PIL import Image

    root = Path(root)
    if not root.is_dir():
        raise InputError(f"Middlebury folder {os.fspath(root)!r} does not exist; point to the data set's root")
    pairs = []
    for flo in sorted(root.glob("*/flow10.flo")):
        frames = [np.asarray(Image.open(flo.parent / f"frame1{i}.png").convert("RGB")) for i in (0, 1)]
        pairs.append(FlowPair(flo.parent.name, frames[0], frames[1], read_flo(flo)))
    return pairs
