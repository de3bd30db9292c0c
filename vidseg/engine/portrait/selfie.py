"""The per-frame person model of portrait mode: MediaPipe's legacy selfie segmenter.

``mediapipe==0.10.14`` ships the model (two small TFLite files) inside its wheel, so nothing is
downloaded. It is the optional extra ``vidseg[portrait]``, installed without the dependencies the
segmenter does not use (jax, jaxlib, matplotlib, opencv-contrib-python, sounddevice)::

    pip install --no-deps mediapipe==0.10.14 && pip install "vidseg[portrait]"

The extra itself holds only protobuf, which the segmenter's graph needs. ``import mediapipe``
would import every solution, and one of them (drawing_utils) imports matplotlib; so the segmenter's
module is loaded here without running the package's ``__init__`` files (see
:func:`_import_selfie_module`). A full install of mediapipe works too.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Iterator

import numpy as np

from vidseg.errors import InputError

MODELS = {"general": 0, "landscape": 1}  # MediaPipe's model_selection: 256x256 and 144x256 inputs

INSTALL_HINT = ('install vidseg[portrait]: pip install --no-deps mediapipe==0.10.14 && '
                'pip install "vidseg[portrait]"')

_SELFIE = "mediapipe.python.solutions.selfie_segmentation"


class SelfieSegmenter:
    """Person probability per frame from MediaPipe's selfie segmenter (no state between frames).

    model: "general" (square 256x256 input) or "landscape" (144x256, faster, made for 16:9).
    ``segmenter(frame)``: (H, W, 3) uint8 RGB -> (H, W) float32 person probability in [0, 1].
    """

    def __init__(self, model: str = "landscape") -> None:
        if model not in MODELS:
            raise InputError(f"unknown person model {model!r}; use one of {', '.join(MODELS)}")
        module = _import_selfie_module()
        self.model = model
        with quiet_native_stderr():  # TFLite and absl log their start-up on the C level
            self._solution = module.SelfieSegmentation(model_selection=MODELS[model])
            self._solution.process(np.zeros((64, 64, 3), np.uint8))  # start the graph now, not on frame 0

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InputError(f"frames must be (H, W, 3) uint8 RGB, got {frame.dtype} {frame.shape}")
        mask = self._solution.process(np.ascontiguousarray(frame)).segmentation_mask
        return np.clip(np.asarray(mask, dtype=np.float32), 0.0, 1.0)

    def close(self) -> None:
        if self._solution is not None:
            self._solution.close()
            self._solution = None

    def __enter__(self) -> SelfieSegmenter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _import_selfie_module() -> types.ModuleType:
    """``mediapipe.python.solutions.selfie_segmentation``, without importing all of mediapipe.

    When ``mediapipe`` is not imported yet, empty package modules stand in for ``mediapipe`` and
    ``mediapipe.python.solutions`` while the segmenter's module is imported, so their
    ``__init__`` files (which import every solution, the tasks API and, through one, matplotlib) do not
    run; the stand-ins are removed afterwards, so a later ``import mediapipe`` by anyone else runs
    the real package (reusing the submodules loaded here).
    """
    if _SELFIE in sys.modules:
        return sys.modules[_SELFIE]
    if "mediapipe" in sys.modules:
        return _import_or_explain(_SELFIE)
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"portrait mode needs MediaPipe's selfie segmenter, which is not installed; {INSTALL_HINT}")
    root = list(spec.submodule_search_locations)[0]
    stand_ins = {
        "mediapipe": _package("mediapipe", root),
        "mediapipe.python.solutions": _package("mediapipe.python.solutions", os.path.join(root, "python", "solutions")),
    }
    sys.modules["mediapipe"] = stand_ins["mediapipe"]
    try:
        _import_or_explain("mediapipe.python")  # the C++ bindings; its __init__ needs only protobuf
        sys.modules["mediapipe.python.solutions"] = stand_ins["mediapipe.python.solutions"]
        return _import_or_explain(_SELFIE)
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


def _package(name: str, path: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = [path]
    return module


def _import_or_explain(name: str) -> types.ModuleType:
    try:
        with quiet_native_stderr():
            return importlib.import_module(name)
    except ImportError as error:
        # MediaPipe's bindings report a missing protobuf as "initialization failed"; its cause names it.
        cause = error.__cause__ if isinstance(error.__cause__, ImportError) else error
        raise InputError(f"MediaPipe's selfie segmenter cannot be loaded ({cause}); {INSTALL_HINT}") from error


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block: MediaPipe's C++ code logs its start-up
    there ("Created TensorFlow Lite XNNPACK delegate", absl warnings), past Python's sys.stderr."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (embedded interpreters): nothing to hide
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
