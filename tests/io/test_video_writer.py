"""VideoWriter: plain RGB frames to mp4, frames placed by position (real-time timing), atomic."""

from __future__ import annotations

import av
import numpy as np
import pytest

from vidseg.io.writers import VideoWriter


def frames(count, height=32, width=48):
    return [np.full((height, width, 3), 20 * i, np.uint8) for i in range(count)]


def decoded_times(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [float(f.pts * f.time_base) for f in container.decode(stream)]


def test_frames_in_order(tmp_path):
    with VideoWriter(tmp_path / "v.mp4", fps=10) as video:
        for frame in frames(4):
            video.write(frame)
    assert decoded_times(tmp_path / "v.mp4") == pytest.approx([0.0, 0.1, 0.2, 0.3], abs=1e-3)


def test_positions_keep_real_time_when_frames_were_skipped(tmp_path):
    with VideoWriter(tmp_path / "v.mp4", fps=10) as video:
        for frame, position in zip(frames(3), (0, 3, 7)):
            video.write(frame, position)
    assert decoded_times(tmp_path / "v.mp4") == pytest.approx([0.0, 0.3, 0.7], abs=1e-3)


def test_positions_must_increase_and_an_error_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match="not after"):
        with VideoWriter(tmp_path / "v.mp4", fps=10) as video:
            video.write(frames(1)[0], 2)
            video.write(frames(1)[0], 2)
    assert list(tmp_path.iterdir()) == []


def test_only_rgb_uint8_frames(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        with VideoWriter(tmp_path / "v.mp4", fps=10) as video:
            video.write(np.zeros((8, 8), np.uint8))
    assert list(tmp_path.iterdir()) == []
