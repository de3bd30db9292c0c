"""Where a segmented frame goes besides its index PNG: overlay video, cut-out, RLE JSON.

Shared by ``vidseg segment`` and the web application's exports, so both write the same files.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vidseg.io.rle import RleJsonWriter
from vidseg.io.writers import AlphaWriter, OverlayVideoWriter

DEFAULT_FPS = 24.0  # frame folders carry no rate; the overlay video needs one
# sink(frame index, frame stem, frame (H, W, 3) uint8 RGB, labels (H, W) uint8)
Sink = Callable[[int, str, np.ndarray, np.ndarray], None]


def open_sinks(stack: contextlib.ExitStack, fps: float | None, palette: bytes | None, overlay: Path | None = None,
               alpha: Path | None = None, rle: Path | None = None) -> list[Sink]:
    """One ``sink(index, stem, frame, labels)`` per output asked for; ``stack`` closes (commits) them."""
    rate = fps or DEFAULT_FPS
    sinks: list[Sink] = []
    if overlay is not None:
        video = stack.enter_context(OverlayVideoWriter(overlay, fps=rate, colors=palette))
        sinks.append(lambda index, stem, frame, labels: video.write(frame, labels))
    if alpha is not None:
        # A .webm path means one VP9 video with alpha; anything else is a folder of RGBA PNGs.
        webm = alpha.suffix.lower() == ".webm"
        cutout = stack.enter_context(AlphaWriter(None if webm else alpha, alpha if webm else None, fps=rate))
        sinks.append(lambda index, stem, frame, labels: cutout.write(stem, frame, labels))
    if rle is not None:
        runs = stack.enter_context(RleJsonWriter(rle))
        sinks.append(lambda index, stem, frame, labels: runs.add(index, stem, labels))
    return sinks
