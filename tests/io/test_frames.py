"""Frame sources: exact indexing of videos in every container, frame folders, bad inputs."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from vidseg.errors import InputError
from vidseg.io.frames import FolderSource, VideoFileSource, natural_sort_key, open_frames

WIDTH, HEIGHT, COUNT = 64, 48, 30
CODECS = {"mp4": "libx264", "mov": "libx264", "mkv": "libx264", "webm": "libvpx-vp9", "avi": "mpeg4"}


def coded_frame(i: int) -> np.ndarray:
    """(48, 64, 3) uint8 frame whose 8 vertical bars spell ``i`` in binary (robust to lossy codecs)."""
    frame = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    for bit in range(8):
        if i >> bit & 1:
            frame[:, bit * 8 : (bit + 1) * 8] = 255
    return frame


def frame_code(frame: np.ndarray) -> int:
    """Inverse of coded_frame, reading the middle of each bar."""
    return sum(1 << bit for bit in range(8) if frame[:, bit * 8 + 2 : bit * 8 + 6].mean() > 127)


def write_video(path: Path, frames, codec: str, fps: int = 25, options: dict | None = None) -> Path:
    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.gop_size = 10  # several keyframes, so seeking is exercised
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def noise_frames(n: int = COUNT):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8) for _ in range(n)]


def cut_file(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


@pytest.fixture(scope="module", params=sorted(CODECS))
def coded_video(request, tmp_path_factory) -> Path:
    ext = request.param
    path = tmp_path_factory.mktemp("videos") / f"coded.{ext}"
    return write_video(path, (coded_frame(i) for i in range(COUNT)), CODECS[ext])


# ---------------------------------------------------------------------------------------------
# Videos


def test_video_metadata(coded_video):
    with open_frames(coded_video) as source:
        assert isinstance(source, VideoFileSource)
        assert len(source) == COUNT
        assert source.stems[:2] == ["00000", "00001"] and source.stems[-1] == "00029"
        assert (source.height, source.width) == (HEIGHT, WIDTH)
        assert source.fps == pytest.approx(25.0)


def test_video_sequential_then_random_access(coded_video):
    with open_frames(coded_video) as source:
        seen = [(i, frame_code(frame)) for i, frame in source.iter_frames()]
        assert seen == [(i, i) for i in range(COUNT)]
        first = source.read(0)
        assert first.shape == (HEIGHT, WIDTH, 3) and first.dtype == np.uint8
        # Around keyframes (every 10th), the last frame, and a negative index.
        for i in [29, 0, 17, 10, 9, 11, 20, 3, -1]:
            assert frame_code(source.read(i)) == i % COUNT, i


def test_video_slices_and_reverse(coded_video):
    with open_frames(coded_video) as source:
        assert [(i, frame_code(f)) for i, f in source.iter_frames(3, 25, 4)] == [(i, i) for i in range(3, 25, 4)]
        backwards = [(i, frame_code(f)) for i, f in source.iter_frames(step=-1)]
        assert backwards == [(i, i) for i in range(COUNT - 1, -1, -1)]
        assert [i for i, _ in source.iter_frames(25, 2, -7)] == [25, 18, 11, 4]
        assert list(source.iter_frames(5, 5)) == []


def test_read_between_iteration_steps_keeps_iteration_exact(tmp_path):
    path = write_video(tmp_path / "v.mp4", (coded_frame(i) for i in range(COUNT)), "libx264")
    with open_frames(path) as source:
        seen = []
        for i, frame in source.iter_frames():
            seen.append((i, frame_code(frame)))
            if i % 7 == 3:
                assert frame_code(source.read(0)) == 0
        assert seen == [(i, i) for i in range(COUNT)]


def test_read_out_of_range_is_index_error(coded_video):
    with open_frames(coded_video) as source, pytest.raises(IndexError):
        source.read(COUNT)


def test_missing_path():
    with pytest.raises(InputError, match="does not exist"):
        open_frames("/nonexistent/clip.mp4")


def test_text_file_named_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n")
    with pytest.raises(InputError, match="not a readable video"):
        open_frames(path)


def test_unsupported_extension_and_single_image(tmp_path):
    (tmp_path / "clip.gif").write_bytes(b"GIF89a")
    with pytest.raises(InputError, match="unsupported extension '.gif'"):
        open_frames(tmp_path / "clip.gif")
    Image.new("RGB", (4, 4)).save(tmp_path / "one.png")
    with pytest.raises(InputError, match="single image"):
        open_frames(tmp_path / "one.png")


def test_truncated_mp4_is_rejected(tmp_path):
    # The default mp4 puts its index (moov) at the end: cut short, it cannot even be opened.
    whole = write_video(tmp_path / "whole.mp4", noise_frames(), "libx264")
    with pytest.raises(InputError, match="not a readable video"):
        open_frames(cut_file(whole, tmp_path / "cut.mp4", 0.6))


@pytest.mark.parametrize("ext, options", [("mp4", {"movflags": "+faststart"}), ("webm", None), ("avi", None)])
def test_truncated_video_with_index_first_is_rejected(tmp_path, ext, options):
    whole = write_video(tmp_path / f"whole.{ext}", noise_frames(), CODECS[ext], options=options)
    with pytest.raises(InputError, match="truncated"):
        open_frames(cut_file(whole, tmp_path / f"cut.{ext}", 0.6))


def test_video_cut_in_its_last_frames_names_the_missing_frame(tmp_path):
    whole = write_video(tmp_path / "whole.mp4", noise_frames(), "libx264", options={"movflags": "+faststart"})
    cut = cut_file(whole, tmp_path / "cut.mp4", 0.97)
    with pytest.raises(InputError, match=r"frame \d+ of .*cut\.mp4"):
        with open_frames(cut) as source:
            for _ in source.iter_frames():
                pass


# ---------------------------------------------------------------------------------------------
# Folders


def write_frame_folder(folder: Path, names: list[str], size=(8, 6)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(names):
        Image.new("RGB", size, (k * 10, 0, 0)).save(folder / name)
    return folder


def test_folder_natural_order_and_content(tmp_path):
    names = ["frame10.png", "frame2.jpg", "frame1.png", "Frame3.JPEG"]  # written with red = 10 * k
    folder = write_frame_folder(tmp_path / "frames", names)
    (folder / "notes.txt").write_text("ignored")
    with open_frames(folder) as source:
        assert isinstance(source, FolderSource)
        assert source.stems == ["frame1", "frame2", "Frame3", "frame10"]
        assert (source.height, source.width, source.fps) == (6, 8, None)
        assert len(source) == 4
        reds = [int(frame[0, 0, 0]) for _, frame in source.iter_frames()]
        assert reds[0] == 20 and reds[3] == 0  # frame1 was written third, frame10 first
        assert source.read(-1).shape == (6, 8, 3)
        assert [i for i, _ in source.iter_frames(step=-2)] == [3, 1]


def test_natural_sort_key():
    names = ["f10", "f2", "f1", "g0", "f02b"]
    assert sorted(names, key=natural_sort_key) == ["f1", "f2", "f02b", "f10", "g0"]


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no frames here")
    with pytest.raises(InputError, match="has no frames"):
        open_frames(tmp_path / "empty")


def test_folder_with_mixed_sizes_names_the_file_and_sizes(tmp_path):
    folder = write_frame_folder(tmp_path / "frames", ["00000.png", "00001.png"], size=(8, 6))
    Image.new("RGB", (9, 6)).save(folder / "00002.png")
    with pytest.raises(InputError, match=r"00002\.png is 9x6 but 00000\.png is 8x6"):
        open_frames(folder)


def test_folder_with_unreadable_frame(tmp_path):
    folder = write_frame_folder(tmp_path / "frames", ["00000.png"])
    (folder / "00001.jpg").write_text("not an image")
    with pytest.raises(InputError, match="00001.jpg"):
        open_frames(folder)


def test_real_davis_folder_if_present():
    folder = Path(__file__).resolve().parents[3] / "shared" / "data" / "examples" / "judo" / "JPEGImages"
    if not folder.is_dir():
        pytest.skip("shared data not present")
    with open_frames(folder) as source:
        assert len(source) == 16 and (source.height, source.width) == (480, 854)
        assert source.stems[5] == "00005"
