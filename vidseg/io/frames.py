"""Frame sources: a video file (through PyAV) or a folder of image frames, indexed exactly.

Every source numbers its frames 0..len-1 in presentation order and returns them as
``np.ndarray`` of shape (H, W, 3), dtype uint8, RGB. ``read(i)`` is random access to exactly
frame ``i``; ``iter_frames`` is the fast sequential path.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidseg.errors import InputError

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png"})

# Reverse iteration decodes this many wanted frames per seek, so it costs about one GOP of
# decoding per chunk rather than per frame, while holding at most this many frames in memory.
_REVERSE_CHUNK = 16


class FrameSource(ABC):
    """Frames of one video, numbered 0..len-1.

    Attributes: ``stems`` (one name per frame, for output file names), ``height``, ``width``,
    ``fps`` (None when unknown, e.g. a folder of frames).
    """

    stems: list[str]
    height: int
    width: int
    fps: float | None

    def __len__(self) -> int:
        return len(self.stems)

    @abstractmethod
    def read(self, i: int) -> np.ndarray:
        """Frame ``i`` (negative counts from the end) as (H, W, 3) uint8 RGB."""

    def iter_frames(
        self, start: int | None = None, stop: int | None = None, step: int = 1
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(i, frame)`` for ``i`` in ``range(len(self))[start:stop:step]`` (slice rules).

        ``step > 0`` decodes sequentially (the fast path). ``step < 0`` goes backwards; for a
        video that means seeking back to a keyframe and decoding forward again for each chunk
        of frames, so it is slower than forward iteration by up to a GOP's decoding per chunk.
        """
        if step == 0:
            raise ValueError("step must not be 0")
        wanted = range(len(self))[start:stop:step]
        if not wanted:
            return iter(())
        if step > 0:
            return self._iter_forward(wanted)
        return self._iter_backward(wanted)

    def _iter_forward(self, wanted: range) -> Iterator[tuple[int, np.ndarray]]:
        for i in wanted:
            yield i, self.read(i)

    def _iter_backward(self, wanted: range) -> Iterator[tuple[int, np.ndarray]]:
        for i in wanted:
            yield i, self.read(i)

    def close(self) -> None:
        """Release the underlying file; the source cannot be read afterwards."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _normalise_index(self, i: int) -> int:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"frame {i} is out of range for a source of {n} frames")
        return i % n


def open_frames(path: str | Path) -> FrameSource:
    """Open a video file (mp4, mov, mkv, webm, avi) or a folder of jpg/jpeg/png frames."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist: give the path of a video file or a folder of frames")
    if path.is_dir():
        return FolderSource(path)
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return VideoFileSource(path)
    if suffix in IMAGE_EXTENSIONS:
        raise InputError(f"{path} is a single image: put the frames of the video in a folder and give the folder")
    supported = ", ".join(sorted(e.lstrip(".") for e in VIDEO_EXTENSIONS))
    raise InputError(f"{path}: unsupported extension {path.suffix!r}; give a video ({supported}) or a folder of frames")


class ArraySource(FrameSource):
    """Frames already in memory: (T, H, W, 3) uint8 RGB, e.g. from a caller's own decoder."""

    def __init__(self, frames: np.ndarray, fps: float | None = None) -> None:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
            raise InputError(f"frames must be a non-empty (T, H, W, 3) uint8 RGB array, got {frames.dtype} {frames.shape}")
        self.frames = frames
        self.stems = [f"{i:05d}" for i in range(len(frames))]
        self.height, self.width = frames.shape[1:3]
        self.fps = fps

    def read(self, i: int) -> np.ndarray:
        return self.frames[self._normalise_index(i)]


# ---------------------------------------------------------------------------------------------
# Folder of frames


def natural_sort_key(name: str) -> tuple:
    """Key that orders ``frame2`` before ``frame10`` (digit runs compare as numbers)."""
    parts = re.split(r"(\d+)", name)
    return tuple(int(p) if k % 2 else p.lower() for k, p in enumerate(parts))


class FolderSource(FrameSource):
    """A folder of jpg/jpeg/png frames in natural sort order of their file names.

    Other files in the folder are ignored. Sizes are checked at open from the image headers
    (cheap: no pixel data is decoded), so a folder of mixed sizes fails before any work starts.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.paths = _list_frame_files(self.folder)
        self.stems = [p.stem for p in self.paths]
        self.width, self.height = _common_size(self.paths)
        self.fps = None

    def read(self, i: int) -> np.ndarray:
        path = self.paths[self._normalise_index(i)]
        rgb = read_rgb(path, "frame", "replace or delete the file")
        if rgb.shape[:2] != (self.height, self.width):
            raise InputError(f"frame {path} changed size while reading; reopen the folder")
        return rgb


def read_rgb(path: str | Path, what: str = "image", fix: str = "give a JPEG or PNG image") -> np.ndarray:
    """The image file at ``path`` as (H, W, 3) uint8 RGB (grey, palette and RGBA converted).

    InputError naming it as ``what`` and saying ``fix`` when it is missing or unreadable."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist; check the path") from None
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise InputError(f"cannot read {what} {path}: {error}; {fix}") from error


def _list_frame_files(folder: Path) -> list[Path]:
    paths = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    if not paths:
        raise InputError(f"folder {folder} has no frames: put .jpg, .jpeg or .png frames in it")
    paths.sort(key=lambda p: (natural_sort_key(p.stem), p.name))
    for a, b in zip(paths, paths[1:]):
        if a.stem == b.stem:
            raise InputError(f"folder {folder} has two frames named {a.stem!r} ({a.name}, {b.name}): keep one")
    return paths


def _common_size(paths: Sequence[Path]) -> tuple[int, int]:
    """(width, height) shared by every frame, read from the image headers."""
    from PIL import Image, UnidentifiedImageError

    first_size: tuple[int, int] | None = None
    for path in paths:
        try:
            with Image.open(path) as image:
                size = image.size
        except (OSError, UnidentifiedImageError) as error:
            raise InputError(f"cannot read frame {path}: {error}; replace or delete the file") from error
        if first_size is None:
            first_size = size
        elif size != first_size:
            raise InputError(
                f"frame {path} is {size[0]}x{size[1]} but {paths[0].name} is {first_size[0]}x{first_size[1]}: "
                "every frame of a folder must have the same size; resize or remove the odd ones"
            )
    assert first_size is not None
    return first_size


# ---------------------------------------------------------------------------------------------
# Video file


@dataclass(frozen=True)
class _VideoIndex:
    """Presentation-order index of a video stream, built by demuxing (no decoding).

    ``pts`` is sorted; frame i has timestamp ``pts[i]``. ``keyframe_positions`` are the frame
    indices of the keyframes, ascending. ``pts`` is None when the stream has no usable
    timestamps; frames are then counted from the start. ``packets`` also counts the packets
    that give no frame (discarded, or empty "repeat" packets of AVI), as headers count them.
    """

    count: int
    pts: list[int] | None
    keyframe_positions: list[int]
    packets: int


class VideoFileSource(FrameSource):
    """A video file decoded with PyAV (first video stream), with exact frame indexing.

    At open, the packets are demuxed once (reading the file, not decoding it) to list their
    timestamps; frame i is the one with the i-th smallest timestamp. ``read(i)`` seeks back to
    the keyframe at or before frame i and decodes forward to it. Rotation metadata is ignored.
    """

    def __init__(self, path: str | Path) -> None:
        import av

        self.path = Path(path)
        try:
            self._container = av.open(str(self.path))
        except (av.FFmpegError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise InputError(
                f"{self.path} is not a readable video ({reason}): it may be another kind of file or cut short; "
                "check that it plays in a video player"
            ) from error
        try:
            self._stream = self._video_stream()
            self._index = self._build_index()
            self._check_not_truncated()
        except BaseException:
            self._container.close()
            raise
        self._index_of = {p: i for i, p in enumerate(self._index.pts or [])}
        self.stems = [f"{i:05d}" for i in range(self._index.count)]
        self.width = self._stream.codec_context.width
        self.height = self._stream.codec_context.height
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else None
        self._epoch = 0  # bumped by every seek; see _decode_span
        # Frame threading speeds up sequential decoding; seek() flushes its buffers.
        self._stream.thread_type = "AUTO"

    def _video_stream(self):
        if not self._container.streams.video:
            raise InputError(
                f"{self.path} has no video stream (an audio file, or a video cut short before its header); "
                "give a complete video file"
            )
        return self._container.streams.video[0]

    def _build_index(self) -> _VideoIndex:
        import av

        stamps: list[tuple[int | None, bool]] = []
        packets = 0
        try:
            for packet in self._container.demux(self._stream):
                timestamp = packet.pts if packet.pts is not None else packet.dts
                if packet.size == 0 and timestamp is None:
                    continue  # the empty packet at the end, which only flushes the decoder
                packets += 1
                # Discarded packets lie before the start of an edit list and never become frames.
                if packet.size and not packet.is_discard:
                    stamps.append((timestamp, packet.is_keyframe))
        except av.FFmpegError as error:
            raise InputError(f"{self.path} is corrupt ({error}); re-download or re-export it") from error
        if not stamps:
            raise InputError(f"{self.path} has no video frames (empty or truncated); give a complete video file")
        pts = [p for p, _ in stamps]
        if None in pts or len(set(pts)) != len(pts):
            return _VideoIndex(len(stamps), None, [0], packets)
        order = sorted(range(len(stamps)), key=lambda k: pts[k])
        keyframes = [rank for rank, k in enumerate(order) if stamps[k][1]]
        return _VideoIndex(len(stamps), sorted(pts), keyframes or [0], packets)

    def _check_not_truncated(self) -> None:
        """Compare the frames found with what the container's header promises."""
        promised = self._stream.frames
        found = self._index.count
        if promised > self._index.packets:
            self._fail_truncated(f"its header promises {promised} frames but only {found} are in the file")
        # Without a frame count (mkv, webm), compare durations, only when no other stream could
        # make the container longer than the video.
        container_s = self._container.duration / 1e6 if self._container.duration else None
        rate = self._stream.average_rate
        if promised or container_s is None or not rate or len(self._container.streams) != 1:
            return
        if found / float(rate) < 0.9 * container_s - 1.0 / float(rate):
            self._fail_truncated(f"its header says {container_s:.2f} s but only {found} frames are in the file")

    def _fail_truncated(self, detail: str) -> None:
        raise InputError(f"{self.path} is truncated: {detail}; re-download or re-export it")

    def read(self, i: int) -> np.ndarray:
        i = self._normalise_index(i)
        for _, frame in self._decode_span(i, i + 1, range(i, i + 1)):
            return frame
        raise AssertionError("unreachable: _decode_span raises when a frame is missing")

    def _iter_forward(self, wanted: range) -> Iterator[tuple[int, np.ndarray]]:
        yield from self._decode_span(wanted[0], wanted[-1] + 1, wanted)

    def _iter_backward(self, wanted: range) -> Iterator[tuple[int, np.ndarray]]:
        for k in range(0, len(wanted), _REVERSE_CHUNK):
            chunk = wanted[k : k + _REVERSE_CHUNK]
            frames = dict(self._decode_span(chunk[-1], chunk[0] + 1, chunk))
            for i in chunk:
                yield i, frames.pop(i)

    def _decode_span(self, lo: int, hi: int, wanted: range) -> Iterator[tuple[int, np.ndarray]]:
        """Decode frames lo..hi-1 in order, yielding ``(i, rgb)`` for ``i`` in ``wanted``.

        The container is shared, so a ``read`` between two steps of an iteration moves the
        decoder; the epoch counter notices that and the iteration seeks back to where it was.
        """
        import av

        expected = lo
        while expected < hi:
            self._epoch += 1
            epoch = self._epoch
            try:
                for i, frame in self._frames_from(expected):
                    if i < expected:
                        continue
                    if i > expected:
                        self._fail_frame(expected, "the decoder skipped it")
                    expected = i + 1
                    if i in wanted:
                        yield i, frame.to_ndarray(format="rgb24")
                    if expected >= hi or self._epoch != epoch:
                        break
                else:
                    self._fail_frame(expected, f"the file ended after {expected} decodable frames")
            except av.FFmpegError as error:
                self._fail_frame(expected, str(error))

    def _frames_from(self, lo: int) -> Iterator[tuple[int, object]]:
        """Yield ``(i, av.VideoFrame)`` from a keyframe at or before frame ``lo`` on."""
        if self._index.pts is None:
            self._container.seek(0)
            yield from enumerate(self._decoded_frames())
            return
        for seek_pts in self._seek_candidates(lo):
            self._container.seek(seek_pts, stream=self._stream, backward=True)
            first = True
            for frame in self._decoded_frames():
                i = self._index_of.get(frame.pts)
                if i is None:
                    continue  # e.g. leading frames of an open GOP that the demuxer dropped
                if first and i > lo:
                    break  # the seek landed after frame lo: try an earlier position
                first = False
                yield i, frame
            else:
                return
        self._fail_frame(lo, "seeking to it failed")

    def _seek_candidates(self, lo: int) -> list[int]:
        assert self._index.pts is not None
        key = max((k for k in self._index.keyframe_positions if k <= lo), default=0)
        return [self._index.pts[key], self._index.pts[0]] if key else [self._index.pts[0]]

    def _decoded_frames(self) -> Iterator[object]:
        for packet in self._container.demux(self._stream):
            yield from packet.decode()

    def _fail_frame(self, i: int, detail: str) -> None:
        raise InputError(
            f"cannot decode frame {i} of {self.path} ({detail}; {self._index.count} frames were indexed): "
            "the file is corrupt or truncated; re-download or re-export it"
        )

    def close(self) -> None:
        self._container.close()
