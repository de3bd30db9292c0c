"""The public entry point: a configured method that opens one session per video."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from vidseg.engine.propagator import Propagator
from vidseg.engine.session import Session
from vidseg.engine.vos.methods import BASELINES, network_config, weights_for
from vidseg.errors import InputError
from vidseg.io.frames import ArraySource, FrameSource, open_frames

if TYPE_CHECKING:
    from vidseg.engine.vos.presets import PropagatorConfig
    from vidseg.nn.interactive import InteractiveNet
    from vidseg.nn.polar import PolarTrackerNet
    from vidseg.nn.propagation import PropagationNet


class VideoSegmenter:
    """``VideoSegmenter(model="default", preset="fast", device="cpu")``; ``open(source)`` gives a :class:`Session`.

    model: ``default`` (the shipped network), ``flow`` or ``static`` (baselines), or a checkpoint path.
    preset: ``fast`` or ``quality``. adapt, fusion, refind: switch online adaptation, flow fusion or
    re-finding lost objects with the polar tracker (:mod:`vidseg.engine.vos.redetect`) on or off (None
    keeps the preset's choice). config: a full network configuration instead of the preset.
    interactive_model: the network behind ``session.add_box`` and ``add_clicks``: ``default`` (the
    shipped one), a checkpoint path from ``vidseg train interactive``, or an ``InteractiveNet``;
    it is loaded at the first box or click of any session, so segmenters given only masks never do.
    backend: "auto" (ONNX Runtime where the ``onnx`` extra is installed, else torch), "torch" or
    "onnxruntime" (every network through ONNX Runtime, the ``onnx`` extra;
    online adaptation still trains a torch copy of the refine module).

    The segmenter owns the networks: it loads each one its sessions use once (through
    :func:`vidseg.nn.registry.load_model`) and hands it to every session, which holds no weights of
    its own: the propagation network (and the re-finder's tracker) here, the interactive one on
    first use (:meth:`interactive_net`).
    """

    def __init__(self, model: str = "default", preset: str = "fast", device: str = "cpu",
                 adapt: bool | None = None, fusion: bool | None = None, config: PropagatorConfig | None = None,
                 interactive_model: str | os.PathLike | InteractiveNet = "default", refind: bool | None = None,
                 backend: str = "auto") -> None:
        if device != "cpu":
            raise InputError(f"device {device!r} is not supported yet; use device='cpu'")
        self.method = str(model)
        self.device = device
        self.backend = backend
        self.config = network_config(self.method, preset, adapt=adapt, fusion=fusion, config=config, refind=refind)
        self.propagation_net: PropagationNet | None = None
        self.tracker_net: PolarTrackerNet | None = None
        if self.config is not None:
            from vidseg.nn.registry import load_model

            self.propagation_net = load_model("vos", weights_for(self.method), backend)
            if self.config.refind is not None:
                from vidseg.engine.track.polar_tracker import load_tracker

                self.tracker_net = load_tracker(self.config.refind.tracker, backend)
        self.interactive_model = interactive_model
        self._interactive_net: InteractiveNet | None = None

    def interactive_net(self) -> InteractiveNet:
        """The network behind boxes and clicks, loaded at the first call (sessions given only masks
        never need it, nor torch)."""
        if self._interactive_net is None:
            from vidseg.engine.interactive.click_segmenter import load_interactive

            self._interactive_net = load_interactive(self.interactive_model, self.backend)
        return self._interactive_net

    def open(self, source: str | os.PathLike | np.ndarray | FrameSource) -> Session:
        """Open a video file, a folder of frames, a (T, H, W, 3) uint8 array, or a frame source."""
        return Session(frame_source(source), self._propagator(), interactive_net=self.interactive_net)

    def _propagator(self) -> Propagator:
        """A fresh propagator for one video, on the segmenter's networks."""
        if self.config is None:
            return BASELINES[self.method]()
        from vidseg.engine.vos.network_propagator import NetworkPropagator

        return NetworkPropagator(self.propagation_net, self.config, tracker=self.tracker_net)


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
