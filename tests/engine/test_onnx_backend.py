"""The onnxruntime backend: the shipped networks through ONNX Runtime give the torch backend's masks."""

from dataclasses import astuple

import numpy as np
import pytest

import vidseg
from vidseg.ops.boxes import Box

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def _j(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def _segment(clip, backend: str, adapt: bool, preset: str) -> list[np.ndarray]:
    seg = vidseg.VideoSegmenter(backend=backend, adapt=adapt, preset=preset)
    with seg.open(clip.frames[:8]) as session:
        session.add_mask(0, clip.labels[0])
        return [labels for _, labels in session.propagate()]


@pytest.mark.parametrize("adapt,preset", [(False, "fast"), (True, "fast"), (False, "quality")])  # quality mirrors
def test_video_masks_agree_between_backends(small_clip, adapt, preset):
    torch_masks = _segment(small_clip, "torch", adapt, preset)
    ort_masks = _segment(small_clip, "onnxruntime", adapt, preset)
    for ours, theirs in zip(torch_masks[1:], ort_masks[1:]):
        for obj in (1, 2, 3):
            assert _j(ours == obj, theirs == obj) >= 0.995


def test_clicks_agree_between_backends(small_clip):
    image, truth = small_clip.frames[0], small_clip.labels[0] == 1
    ys, xs = np.nonzero(truth)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    masks = []
    for backend in ("torch", "onnxruntime"):
        segmenter = vidseg.ClickSegmenter(backend=backend)
        first = segmenter.start(image, box=box)
        masks.append((first, segmenter.click(int(xs.mean()), int(ys.mean()), True)))
    for ours, theirs in zip(*masks):
        assert _j(ours, theirs) >= 0.995


def test_tracker_boxes_agree_between_backends(small_clip):
    from vidseg.engine.track.polar_tracker import PolarTracker

    ys, xs = np.nonzero(small_clip.labels[0] == 2)
    box = Box(float(xs.min()), float(ys.min()), float(xs.max()) + 1, float(ys.max()) + 1)
    tracks = []
    for backend in ("torch", "onnxruntime"):
        tracker = PolarTracker(backend=backend)
        tracker.start(small_clip.frames[0], box)
        tracks.append([astuple(tracker.step(frame).box) for frame in small_clip.frames[1:6]])
    for ours, theirs in zip(*tracks):
        assert np.allclose(ours, theirs, atol=0.5)


def test_an_unknown_backend_is_one_line():
    from vidseg.errors import InputError

    with pytest.raises(InputError, match="unknown backend 'tensorrt'"):
        vidseg.VideoSegmenter(backend="tensorrt")
