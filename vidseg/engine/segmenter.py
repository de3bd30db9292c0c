"""The public entry point: a configured method that opens one session per video."""

from __future__ import annotations

import os

from vidseg.engine.methods import build_propagator, resolve_method
from vidseg.engine.session import Session
from vidseg.errors import InputError
from vidseg.io.frames import FrameSource, open_frames


class VideoSegmenter:
    """``VideoSegmenter(model="default", device="cpu")``; ``open(source)`` gives a :class:`Session`.

    model: a method name (see ``vidseg.engine.methods.method_names()``).
    """

    def __init__(self, model: str = "default", device: str = "cpu") -> None:
        if device != "cpu":
            raise InputError(f"device {device!r} is not supported yet; use device='cpu'")
        self.method = resolve_method(model)
        self.device = device

    def open(self, source: str | os.PathLike | FrameSource) -> Session:
        """Open a video file, a folder of frames, or an already open frame source."""
        frames = open_frames(source) if isinstance(source, (str, os.PathLike)) else source
        return Session(frames, build_propagator(self.method))
