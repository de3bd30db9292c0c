"""The public entry point: a configured method that opens one session per video."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from vidseg.engine.vos.methods import method_builder
from vidseg.engine.session import Session
from vidseg.errors import InputError
from vidseg.io.frames import ArraySource, FrameSource, open_frames

if TYPE_CHECKING:
    from vidseg.engine.vos.presets import NetworkConfig
    from vidseg.nn.interactive import InteractiveNet


class VideoSegmenter:
    """``VideoSegmenter(model="default", preset="fast", device="cpu")``; ``open(source)`` gives a :class:`Session`.

    model: ``default`` (the shipped network), ``flow`` or ``static`` (baselines), or a checkpoint path.
    preset: ``fast`` or ``quality``. adapt, fusion, refind: switch online adaptation, flow fusion or
    re-finding lost objects with the polar tracker (:mod:`vidseg.engine.vos.refind`) on or off (None
    keeps the preset's choice). config: a full network configuration instead of the preset.
    interactive_model: the network behind ``session.add_box`` and ``add_clicks``: ``default`` (the
    shipped one), a checkpoint path from ``vidseg train interactive``, or an ``InteractiveNet``;
    each session loads it at its first box or click, so sessions given only masks never do.
    """

    def __init__(self, model: str = "default", preset: str = "fast", device: str = "cpu",
                 adapt: bool | None = None, fusion: bool | None = None, config: NetworkConfig | None = None,
                 interactive_model: str | os.PathLike | InteractiveNet = "default", refind: bool | None = None) -> None:
        if device != "cpu":
            raise InputError(f"device {device!r} is not supported yet; use device='cpu'")
        self.method = str(model)
        self.device = device
        self._build = method_builder(self.method, preset, adapt=adapt, fusion=fusion, config=config, refind=refind)
        self.interactive_model = interactive_model

    def open(self, source: str | os.PathLike | np.ndarray | FrameSource) -> Session:
        """Open a video file, a folder of frames, a (T, H, W, 3) uint8 array, or a frame source."""
        return Session(frame_source(source), self._build(), interactive_model=self.interactive_model)


def frame_source(source: object) -> FrameSource:
    """``open()``'s argument as a frame source; InputError for anything else, at the entry rather
    than as an AttributeError deep in a session (a list of frames, an int, a PIL image...)."""
    if isinstance(source, FrameSource):
        return source
    if isinstance(source, np.ndarray):
        return ArraySource(source)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, str):  # a PathLike may still give bytes
            return open_frames(path)
    hint = "; stack a list of frames with np.stack(frames)" if isinstance(source, (list, tuple)) else ""
    raise InputError(f"open() takes a path (str or os.PathLike) to a video file or a folder of frames, a (T, H, W, 3) "
                     f"uint8 array or a FrameSource, not {type(source).__name__}{hint}")
