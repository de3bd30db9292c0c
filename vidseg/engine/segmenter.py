"""The public entry point: a configured method that opens one session per video."""

from __future__ import annotations

import os

import numpy as np

from vidseg.engine.methods import build_propagator, resolve_method
from vidseg.engine.session import Session
from vidseg.errors import InputError
from vidseg.io.frames import ArraySource, FrameSource, open_frames


class VideoSegmenter:
    """``VideoSegmenter(model="default", device="cpu")``; ``open(source)`` gives a :class:`Session`.

    model: a method name (see ``vidseg.engine.methods.method_names()``).
    """

    def __init__(self, model: str = "default", device: str = "cpu") -> None:
        if device != "cpu":
            raise InputError(f"device {device!r} is not supported yet; use device='cpu'")
        self.method = resolve_method(model)
        self.device = device

    def open(self, source: str | os.PathLike | np.ndarray | FrameSource) -> Session:
        """Open a video file, a folder of frames, a (T, H, W, 3) uint8 array, or a frame source."""
        if isinstance(source, (str, os.PathLike)):
            frames = open_frames(source)
        elif isinstance(source, np.ndarray):
            frames = ArraySource(source)
        else:
            frames = source
        return Session(frames, build_propagator(self.method))
