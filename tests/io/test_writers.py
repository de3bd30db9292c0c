"""Streaming writers: overlay pixels, mp4 and webm outputs, alpha PNGs, no partial files on error."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.alpha_webm import decode_webm_rgba
from vidseg.errors import OutputError
from vidseg.io.frames import open_frames
from vidseg.io.masks import DAVIS_PALETTE
from vidseg.io.writers import AlphaWriter, OverlayVideoWriter, alpha_cutout, overlay_labels

H, W = 36, 50


def scene(i: int, height: int = H, width: int = W) -> tuple[np.ndarray, np.ndarray]:
    """A grey frame with a bright square (object 1) that moves right, and a fixed bar (object 2)."""
    frame = np.full((height, width, 3), 60, dtype=np.uint8)
    labels = np.zeros((height, width), dtype=np.uint8)
    labels[8:20, 4 + 2 * i : 16 + 2 * i] = 1
    labels[26:30, :] = 2
    frame[labels == 1] = 220
    return frame, labels


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------------------------------------
# Pixel operations


def test_overlay_blends_inside_and_draws_the_contour():
    frame = np.full((7, 7, 3), 100, dtype=np.uint8)
    labels = np.zeros((7, 7), dtype=np.uint8)
    labels[1:6, 1:6] = 1  # DAVIS colour 1 is (128, 0, 0)
    out = overlay_labels(frame, labels)
    assert np.array_equal(out[0, 0], [100, 100, 100])  # background untouched
    assert np.array_equal(out[3, 3], [114, 50, 50])  # 0.5 * 100 + 0.5 * (128, 0, 0)
    assert np.array_equal(out[1, 3], [128, 0, 0])  # contour in the object colour
    assert np.array_equal(out[5, 5], [128, 0, 0])
    assert np.array_equal(frame[3, 3], [100, 100, 100])  # the input is not modified


def test_overlay_contour_between_touching_objects():
    frame = np.zeros((2, 4, 3), dtype=np.uint8)
    labels = np.array([[1, 1, 2, 2], [1, 1, 2, 2]], dtype=np.uint8)
    out = overlay_labels(frame, labels, alpha=0.0)
    assert np.array_equal(out[0, 0], [0, 0, 0])  # interior, alpha 0
    assert np.array_equal(out[0, 1], [128, 0, 0]) and np.array_equal(out[0, 2], [0, 128, 0])


def test_alpha_cutout():
    frame, labels = scene(0)
    rgba = alpha_cutout(frame, labels)
    assert rgba.shape == (H, W, 4) and rgba.dtype == np.uint8
    assert np.array_equal(rgba[..., :3], frame)
    assert np.array_equal(rgba[..., 3], np.where(labels > 0, 255, 0))


def test_mismatched_labels_are_refused():
    with pytest.raises(ValueError, match="do not match"):
        overlay_labels(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5), np.uint8))


# ---------------------------------------------------------------------------------------------
# Overlay video


@pytest.mark.parametrize("height, width", [(H, W), (35, 49)])
def test_overlay_video_is_readable(tmp_path, height, width):
    path = tmp_path / "overlay.mp4"
    with OverlayVideoWriter(path, fps=12.5) as writer:
        for i in range(6):
            writer.write(*scene(i, height, width))
        assert not path.exists()  # only the temporary file exists until close
    assert leftovers(tmp_path) == ["overlay.mp4"]
    with open_frames(path) as video:
        assert len(video) == 6 and video.fps == pytest.approx(12.5)
        assert (video.height, video.width) == (height + height % 2, width + width % 2)
        expected = overlay_labels(*scene(3, height, width))
        got = video.read(3)[:height, :width].astype(int)
        assert np.abs(got - expected).mean() < 6  # lossy, but the same picture
        assert (got[14, 10 + 6] - got[14, 40]).max() > 60  # the square is where frame 3 has it (cols 10..21)


def test_overlay_video_removed_when_the_run_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with OverlayVideoWriter(tmp_path / "overlay.mp4", fps=10) as writer:
            writer.write(*scene(0))
            raise RuntimeError("model crashed")
    assert leftovers(tmp_path) == []


def test_overlay_video_without_frames(tmp_path):
    with pytest.raises(OutputError, match="no frames"):
        with OverlayVideoWriter(tmp_path / "overlay.mp4", fps=10):
            pass
    assert leftovers(tmp_path) == []


def test_overlay_video_needs_a_positive_fps(tmp_path):
    with pytest.raises(ValueError, match="fps"):
        OverlayVideoWriter(tmp_path / "overlay.mp4", fps=None)


def test_overlay_uses_custom_colors(tmp_path):
    colors = bytes([0, 0, 0, 0, 0, 255]) + DAVIS_PALETTE[6:]
    frame = np.zeros((4, 4, 3), np.uint8)
    labels = np.ones((4, 4), np.uint8)
    assert np.array_equal(overlay_labels(frame, labels, colors, alpha=1.0)[2, 2], [0, 0, 255])


# ---------------------------------------------------------------------------------------------
# Alpha outputs


def test_alpha_pngs_and_webm(tmp_path):
    webm = tmp_path / "cut.webm"
    with AlphaWriter(tmp_path / "alpha", webm, fps=10) as writer:
        for i in range(5):
            writer.write(f"{i:05d}", *scene(i))
    assert leftovers(tmp_path) == ["00000.png", "00001.png", "00002.png", "00003.png", "00004.png", "cut.webm"]
    frame, labels = scene(2)
    with Image.open(tmp_path / "alpha" / "00002.png") as image:
        assert image.mode == "RGBA"
        assert np.array_equal(np.asarray(image), alpha_cutout(frame, labels))
    decoded = decode_webm_rgba(webm)
    assert len(decoded) == 5 and decoded[2].shape == (H, W, 4)
    alpha = decoded[2][..., 3].astype(int)
    # Away from the edges (lossy), alpha is 255 on objects and 0 elsewhere.
    assert alpha[12:16, 12:18].min() > 240 and alpha[27:29, 10:40].min() > 240
    assert alpha[0:5, :].max() < 15 and alpha[22:24, :].max() < 15


def test_alpha_pngs_only(tmp_path):
    with AlphaWriter(tmp_path / "alpha") as writer:
        writer.write("a", *scene(0))
    assert leftovers(tmp_path) == ["a.png"]


def test_alpha_webm_removed_but_pngs_kept_when_the_run_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with AlphaWriter(tmp_path / "alpha", tmp_path / "cut.webm", fps=10) as writer:
            writer.write("00000", *scene(0))
            raise RuntimeError("model crashed")
    assert leftovers(tmp_path) == ["00000.png"]


def test_alpha_writer_bad_arguments(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        AlphaWriter(tmp_path / "file")
    with pytest.raises(ValueError, match="fps"):
        AlphaWriter(tmp_path / "alpha", tmp_path / "cut.webm")
