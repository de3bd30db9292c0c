"""Streaming outputs: videos (H.264 mp4, plain or with objects overlaid) and alpha cut-outs (RGBA PNGs, VP9 webm).

Each writer encodes into a temporary file beside its target and renames it on a successful
``close()``. Used as a context manager, a block that raises removes the temporary file, so an
interrupted run never leaves a half-written video behind.

Frames are (H, W, 3) uint8 RGB; labels are (H, W) integer object ids, 0 background.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidseg.errors import OutputError
from vidseg.io.atomic import CommitOnExit, atomic_path
from vidseg.io.masks import DAVIS_PALETTE, write_png

# ---------------------------------------------------------------------------------------------
# Pixel operations


def overlay_labels(
    frame: np.ndarray, labels: np.ndarray, colors: bytes = DAVIS_PALETTE, alpha: float = 0.5
) -> np.ndarray:
    """Blend each object's colour over ``frame`` and draw its 1-pixel inner contour.

    frame: (H, W, 3) uint8 RGB; labels: (H, W) ids; colors: 256 RGB triples (a palette),
    id k drawn in colour k. Returns (H, W, 3) uint8.
    """
    _check_frame_and_labels(frame, labels)
    table = _color_table(colors)
    inside = labels != 0
    out = frame.copy()
    blended = (1.0 - alpha) * frame[inside] + alpha * table[labels[inside]]
    out[inside] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    contour = _inner_contour(labels)
    out[contour] = table[labels[contour]]
    return out


def alpha_cutout(frame: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 RGBA: the frame's colours, alpha 255 on any object and 0 elsewhere."""
    _check_frame_and_labels(frame, labels)
    alpha = np.where(labels != 0, 255, 0).astype(np.uint8)
    return np.dstack([frame, alpha])


def _inner_contour(labels: np.ndarray) -> np.ndarray:
    """(H, W) bool: object pixels with a 4-neighbour of another id (frame edges do not count)."""
    edge = np.zeros(labels.shape, dtype=bool)
    horizontal = labels[:, 1:] != labels[:, :-1]
    vertical = labels[1:, :] != labels[:-1, :]
    edge[:, 1:] |= horizontal
    edge[:, :-1] |= horizontal
    edge[1:, :] |= vertical
    edge[:-1, :] |= vertical
    return edge & (labels != 0)


def _color_table(colors: bytes) -> np.ndarray:
    table = np.zeros((256, 3), dtype=np.float32)
    rgb = np.frombuffer(bytes(colors), dtype=np.uint8)[: 256 * 3]
    table.flat[: rgb.size] = rgb
    return table


def _check_frame_and_labels(frame: np.ndarray, labels: np.ndarray) -> None:
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"frame must be (H, W, 3) uint8, got shape {frame.shape} dtype {frame.dtype}")
    if labels.shape != frame.shape[:2]:
        raise ValueError(f"labels {labels.shape} do not match the frame {frame.shape[:2]}")


def _pad_to_even(image: np.ndarray) -> np.ndarray:
    """Repeat the last row/column where a dimension is odd (4:2:0 chroma needs even sizes)."""
    pad_h, pad_w = image.shape[0] % 2, image.shape[1] % 2
    if not (pad_h or pad_w):
        return image
    return np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")


# ---------------------------------------------------------------------------------------------
# Encoding into a temporary file


class _PendingFile:
    """A temporary path beside ``target`` that becomes ``target`` on commit, or disappears on abort."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self._stack = contextlib.ExitStack()
        try:
            self.tmp = self._stack.enter_context(atomic_path(target))
        except OSError as error:
            raise OutputError(f"cannot write {target} ({error}); check that its folder is writable") from error

    def commit(self) -> None:
        self._stack.close()

    def abort(self) -> None:
        # atomic_path removes its temporary file when an exception passes through it.
        error = _Aborted()
        self._stack.__exit__(_Aborted, error, None)


class _Aborted(Exception):
    pass


class _VideoEncoder:
    """One PyAV video stream into a pending file; the stream opens at the first frame (its size)."""

    def __init__(self, target: Path, container_format: str, codec: str, pix_fmt: str, fps: float,
                 options: dict[str, str]) -> None:
        if not fps or fps <= 0:
            raise ValueError(f"fps must be a positive number for {target}, got {fps!r}")
        self.file = _PendingFile(target)
        self._spec = (container_format, codec, pix_fmt, options)
        self._rate = Fraction(float(fps)).limit_denominator(1001)
        self._container = None
        self._stream = None
        self._count = 0
        self._next_pts = 0
        self._finished = False

    def encode(self, image: np.ndarray, array_format: str, pts: int | None = None) -> None:
        """Encode one (H, W, C) uint8 image ("rgb24" or "rgba"); odd sizes are padded to even.

        ``pts``: the frame's position in frame periods (1/fps); default: the next one. Gaps make a
        variable-frame-rate video that keeps real time (a live run that dropped frames)."""
        import av

        if self._finished:
            raise ValueError(f"{self.file.target} is already closed")
        pts = self._next_pts if pts is None else int(pts)
        if pts < self._next_pts:
            raise ValueError(f"frame position {pts} is not after the previous one ({self._next_pts - 1}) in {self.file.target}")
        image = _pad_to_even(image)
        if self._stream is None:
            self._open(image.shape[1], image.shape[0])
        elif (image.shape[0], image.shape[1]) != (self._stream.height, self._stream.width):
            raise ValueError(f"frame size changed from {self._stream.width}x{self._stream.height} "
                             f"to {image.shape[1]}x{image.shape[0]} in {self.file.target}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=array_format)
        frame.pts = pts
        frame.time_base = 1 / self._rate
        self._mux(self._stream.encode(frame))
        self._count += 1
        self._next_pts = pts + 1

    def _open(self, width: int, height: int) -> None:
        import av

        container_format, codec, pix_fmt, options = self._spec
        self._container = av.open(str(self.file.tmp), "w", format=container_format)
        self._stream = self._container.add_stream(codec, rate=self._rate, options=options)
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, pix_fmt

    def _mux(self, packets) -> None:
        for packet in packets:
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and move the file into place; without frames, nothing is saved."""
        if self._finished:
            return
        self._finished = True
        if self._container is None:
            self.file.abort()
            raise OutputError(f"no frames were written to {self.file.target}; nothing was saved")
        self._mux(self._stream.encode(None))
        self._container.close()
        self.file.commit()

    def abort(self) -> None:
        """Drop the partial output."""
        if self._finished:
            return
        self._finished = True
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
        self.file.abort()


# ---------------------------------------------------------------------------------------------
# Writers


def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float, crf: int = 18) -> Path:
    """Write (H, W, 3) uint8 RGB frames as an H.264 mp4 (yuv420p), atomically; return the path.

    Odd sizes are padded to even by repeating the last row/column (4:2:0 needs even sizes).
    """
    encoder = _VideoEncoder(Path(path), "mp4", "libx264", "yuv420p", fps, {"crf": str(crf)})
    try:
        for frame in frames:
            encoder.encode(frame, "rgb24")
    except BaseException:
        encoder.abort()
        raise
    encoder.close()
    return Path(path)


class VideoWriter(CommitOnExit):
    """An H.264 mp4 (libx264, yuv420p) of (H, W, 3) uint8 RGB frames, encoded as they come.

    ``write(frame, pts)``: ``pts`` places the frame at ``pts / fps`` seconds (default: right after
    the previous one), so a live run that skipped frames still plays in real time.
    Odd frame sizes are padded to even by repeating the last row/column (4:2:0 needs even sizes).
    """

    def __init__(self, path: str | os.PathLike, fps: float, crf: int = 20, preset: str = "veryfast") -> None:
        self.path = Path(path)
        options = {"crf": str(crf), "preset": preset}  # x264 preset: "superfast" costs ~30% less, files ~30% larger
        self._encoder = _VideoEncoder(self.path, "mp4", "libx264", "yuv420p", fps, options)

    def write(self, frame_rgb: np.ndarray, pts: int | None = None) -> None:
        if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8:
            raise ValueError(f"frame must be (H, W, 3) uint8, got shape {frame_rgb.shape} dtype {frame_rgb.dtype}")
        self._encoder.encode(frame_rgb, "rgb24", pts)

    def close(self) -> None:
        self._encoder.close()

    def abort(self) -> None:
        self._encoder.abort()


class OverlayVideoWriter(CommitOnExit):
    """An H.264 mp4 (libx264, yuv420p) of the frames with objects blended in (see overlay_labels).

    ``colors``: the palette to draw ids with (e.g. the input mask's), default DAVIS_PALETTE.

    Odd frame sizes are padded to even by repeating the last row/column (4:2:0 needs even sizes).
    """

    def __init__(self, path: str | os.PathLike, fps: float, colors: bytes | None = None,
                 alpha: float = 0.5, crf: int = 20) -> None:
        self.path = Path(path)
        self.colors = DAVIS_PALETTE if colors is None else colors
        self.alpha = alpha
        options = {"crf": str(crf), "preset": "veryfast"}
        self._encoder = _VideoEncoder(self.path, "mp4", "libx264", "yuv420p", fps, options)

    def write(self, frame_rgb: np.ndarray, labels: np.ndarray) -> None:
        """Append one frame: (H, W, 3) uint8 RGB and its (H, W) labels."""
        self._encoder.encode(overlay_labels(frame_rgb, labels, self.colors, self.alpha), "rgb24")

    def close(self) -> None:
        self._encoder.close()

    def abort(self) -> None:
        self._encoder.abort()


class AlphaWriter(CommitOnExit):
    """Cut-outs with transparency: ``<folder>/<stem>.png`` RGBA per frame, and optionally a webm.

    Each PNG is the frame with alpha 255 on any object and 0 elsewhere, written atomically as it
    comes, so after an interrupted run the PNGs written so far are complete and the webm is gone.

    The webm is VP9 (libvpx-vp9) with pix_fmt yuva420p. The alpha is really stored (checked with
    PyAV 18 / FFmpeg here: the stream carries ``alpha_mode=1`` and the alpha plane as block
    additions), but FFmpeg's built-in ``vp9`` decoder ignores it and returns yuv420p. To read the
    alpha back, decode with libvpx: ``ffmpeg -c:v libvpx-vp9 -i cut.webm ...`` or, in PyAV,
    ``av.CodecContext.create("libvpx-vp9", "r")`` and the frame's fourth plane (PyAV 18's
    ``to_ndarray(format="rgba")``, FFmpeg 8.1, leaves the columns past the last multiple of 16
    undefined: tests/alpha_webm.py). Browsers (Chrome, Firefox) show it.
    """

    def __init__(self, folder: str | os.PathLike | None, webm_path: str | os.PathLike | None = None,
                 fps: float | None = None) -> None:
        if folder is None and webm_path is None:
            raise ValueError("AlphaWriter needs a folder for PNGs, a webm path, or both")
        self.folder = None if folder is None else Path(folder)
        if self.folder is not None:
            self._make_folder(self.folder)
        self._webm = None
        if webm_path is not None:
            if fps is None:
                raise ValueError("fps is needed to write a webm")
            # Realtime mode encodes ~5x faster than "good" for ~25% more bytes: a sink must keep up.
            # Row multithreading stays off (libvpx's default). The alpha blotches once blamed on it
            # came from the tests' yuv -> rgba read-back (see tests/alpha_webm.py), not the file.
            options = {"crf": "30", "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "0"}
            self._webm = _VideoEncoder(Path(webm_path), "webm", "libvpx-vp9", "yuva420p", fps, options)

    def write(self, stem: str, frame_rgb: np.ndarray, labels: np.ndarray) -> None:
        """Write frame ``stem``: (H, W, 3) uint8 RGB and its (H, W) labels."""
        from PIL import Image

        rgba = alpha_cutout(frame_rgb, labels)
        if self.folder is not None:
            write_png(self.folder / f"{stem}.png", Image.fromarray(rgba))
        if self._webm is not None:
            self._webm.encode(rgba, "rgba")

    @staticmethod
    def _make_folder(folder: Path) -> None:
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} is a file, not a folder: give a folder for the alpha PNGs")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"cannot create {folder} ({error}); check the path and permissions") from error

    def close(self) -> None:
        if self._webm is not None:
            self._webm.close()

    def abort(self) -> None:
        """Drop the webm; PNGs already written stay, each complete."""
        if self._webm is not None:
            self._webm.abort()
