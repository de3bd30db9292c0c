"""VideoSegmenter.open(): what it takes is checked at the entry, with one error saying what it takes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import vidseg
from vidseg.errors import InputError
from vidseg.io.frames import ArraySource


@pytest.fixture(scope="module")
def segmenter():
    return vidseg.VideoSegmenter(model="flow")


class BytesPath:
    def __fspath__(self) -> bytes:
        return b"clip.mp4"


@pytest.mark.parametrize("source", [
    [np.zeros((8, 8, 3), np.uint8)] * 2, 3, None, Image.new("RGB", (8, 8)), b"clip.mp4", BytesPath(),
])
def test_anything_but_a_path_an_array_or_a_frame_source_is_refused_at_the_entry(segmenter, source):
    with pytest.raises(InputError, match=r"open\(\) takes a path .* or a FrameSource, not ") as error:
        segmenter.open(source)
    assert "\n" not in str(error.value)


def test_a_list_of_frames_is_told_how_to_stack_it(segmenter):
    with pytest.raises(InputError, match=r"np\.stack"):
        segmenter.open([np.zeros((8, 8, 3), np.uint8)])


def test_paths_arrays_and_frame_sources_still_open(segmenter, tmp_path, small_clip):
    frames = small_clip.frames[:2]
    for source in (frames, ArraySource(frames)):
        with segmenter.open(source) as session:
            assert session.num_frames == 2
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(tmp_path / f"{i:05d}.png")
    for source in (tmp_path, str(tmp_path)):
        with segmenter.open(source) as session:
            assert session.num_frames == 2
    with pytest.raises(InputError, match="does not exist"):  # a path is checked as before
        segmenter.open(tmp_path / "none.mp4")


def test_the_segmenter_loads_each_network_once_and_hands_it_to_its_sessions(small_clip, monkeypatch):
    from vidseg.nn import registry
    from tests.engine.test_session_clicks import tiny_net

    loads = []
    real = registry.load_model
    monkeypatch.setattr(registry, "load_model", lambda name, *a, **k: loads.append(name) or real(name, *a, **k))
    net = tiny_net()
    seg = vidseg.VideoSegmenter(model="flow", interactive_model=net, backend="torch")  # "auto" would wrap it for ONNX Runtime
    assert seg.interactive_net() is net and seg.interactive_net() is net
    sessions = [seg.open(small_clip.frames) for _ in range(2)]
    for s in sessions:
        s.add_box(0, 1, (10, 10, 60, 60))
        assert s._click_segmenter.net is net
        s.close()
    assert loads == []  # a network given is used as it is; the baseline needs none
