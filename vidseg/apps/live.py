"""``vidseg live``: background replacement on a camera or a played-back file, in real time.

A reader thread takes frames as they come: from a camera at its own pace, or from a file played
at the file's frame rate (frame i is due at ``i / fps`` seconds after the start). It leaves each
frame in a one-frame mailbox; the main thread always processes the newest frame, so processing
never falls behind: a frame replaced before it was taken is dropped, and counted. Latency is the
time from a frame's arrival (its due time, for a file) to its composite being ready.

It stops at the end of the stream, on Ctrl-C (what was recorded is kept), on 'q' or Esc in the
preview window, or when no frame has come for ``stall_timeout`` seconds (a stalled stream).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidseg.apps.portrait import VIDEO_PRESET
from vidseg.engine.portrait.backgrounds import BackgroundSpec, Compositor
from vidseg.engine.portrait.pipeline import PersonModel, PortraitConfig, PortraitPipeline, load_person_model
from vidseg.errors import InputError
from vidseg.io.frames import FrameSource, open_frames
from vidseg.io.outputs import Output, check_outputs
from vidseg.io.sinks import DEFAULT_FPS
from vidseg.io.stages import WorkerThread
from vidseg.io.writers import VideoWriter

PREVIEW_WINDOW = "vidseg live (q to stop)"


@dataclass(frozen=True)
class Captured:
    """One frame as it arrived: its position in the stream (frame periods since the start, which
    places it in the output video), the (H, W, 3) uint8 RGB pixels, and its arrival time
    (``time.monotonic()``)."""

    position: int
    frame: np.ndarray
    arrived: float


class LiveSource(ABC):
    """Frames in real time. ``read()`` blocks until the next frame arrives; None at the end."""

    name: str
    height: int
    width: int
    fps: float

    @abstractmethod
    def read(self) -> Captured | None: ...

    def close(self) -> None:
        """Release the device or file (called once the reader thread has stopped)."""

    def interrupt(self) -> None:
        """Make a blocked or waiting ``read()`` return soon (None)."""


class PlaybackSource(LiveSource):
    """A video file (or a folder of frames, at ``fps``) played at its frame rate, as if it came live:
    frame i arrives at ``start + i / fps``, and no earlier."""

    def __init__(self, path: str | Path, fps: float | None = None) -> None:
        self._source: FrameSource = open_frames(path)
        self.name = str(path)
        self.height, self.width = self._source.height, self._source.width
        self.fps = float(fps or self._source.fps or DEFAULT_FPS)
        self._frames = self._source.iter_frames()
        self._start: float | None = None
        self._stop = threading.Event()

    def read(self) -> Captured | None:
        item = next(self._frames, None)
        if item is None:
            return None
        index, frame = item
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + index / self.fps
        if self._stop.wait(max(0.0, due - time.monotonic())):
            return None
        return Captured(index, frame, due)

    def interrupt(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._source.close()


class CameraSource(LiveSource):
    """Camera ``index`` through OpenCV; a camera that does not exist or does not open is an InputError."""

    def __init__(self, index: int) -> None:
        import cv2

        if index < 0:
            raise InputError(f"camera number must be 0 or more, got {index}")
        if sys.platform.startswith("linux") and not os.path.exists(f"/dev/video{index}"):
            cameras = sorted(p for p in os.listdir("/dev") if p.startswith("video")) if os.path.isdir("/dev") else []
            found = ", ".join(f"/dev/{p}" for p in cameras) or "none"
            raise InputError(f"camera {index} does not exist (no /dev/video{index}; cameras found: {found}); "
                             "give another --camera number, or --input FILE")
        self._capture = cv2.VideoCapture(index)
        if not self._capture.isOpened():
            self._capture.release()
            raise InputError(f"camera {index} cannot be opened (missing, busy or not permitted); "
                             "give another --camera number, or --input FILE")
        self.name = f"camera {index}"
        self.width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0) or 30.0
        self._start: float | None = None
        self._last = -1

    def read(self) -> Captured | None:
        import cv2

        ok, bgr = self._capture.read()
        if not ok:
            return None
        now = time.monotonic()
        if self._start is None:
            self._start = now
        position = max(self._last + 1, round((now - self._start) * self.fps))
        self._last = position
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if rgb.shape[:2] != (self.height, self.width):  # the driver's figures may be off
            raise InputError(f"{self.name} delivers {rgb.shape[1]}x{rgb.shape[0]} frames, not the "
                             f"{self.width}x{self.height} it reported")
        return Captured(position, rgb, now)

    def close(self) -> None:
        self._capture.release()


class _Mailbox:
    """The newest frame, not yet taken. ``put`` replaces an untaken frame (and says so)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: Captured | None = None
        self._ended = False
        self.error: BaseException | None = None

    def put(self, item: Captured) -> bool:
        with self._cond:
            replaced = self._item is not None
            self._item = item
            self._cond.notify()
            return replaced

    def end(self, error: BaseException | None = None) -> None:
        with self._cond:
            self._ended = True
            self.error = error
            self._cond.notify()

    def take(self, timeout: float) -> Captured | None | bool:
        """The newest frame; None at the end of the stream; False after ``timeout`` s without one."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._item is not None or self._ended, timeout):
                return False
            item, self._item = self._item, None
            return item


class _Reader(threading.Thread):
    def __init__(self, source: LiveSource, mailbox: _Mailbox) -> None:
        super().__init__(name="vidseg-live-reader", daemon=True)
        self.source, self.mailbox = source, mailbox
        self.stopping = threading.Event()
        self.captured = 0
        self.replaced = 0

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                item = self.source.read()
                if item is None or self.stopping.is_set():
                    break
                self.captured += 1
                self.replaced += self.mailbox.put(item)
        except BaseException as error:  # handed to the main thread, which raises it
            self.mailbox.end(error)
            return
        self.mailbox.end()

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the reader to stop; True once it has (a read blocked in a driver may not return)."""
        self.stopping.set()
        self.source.interrupt()
        self.join(timeout)
        return not self.is_alive()


@dataclass(frozen=True)
class LiveJob:
    camera: int | None = None
    input: Path | None = None
    output: Path | None = None
    background: BackgroundSpec = field(default_factory=BackgroundSpec.from_options)
    config: PortraitConfig = field(default_factory=PortraitConfig)
    model: str = "landscape"
    preview: bool | None = None  # None: when a display exists
    stall_timeout: float = 5.0
    overwrite: bool = False  # replace an existing --output file

    def __post_init__(self) -> None:
        if (self.camera is None) == (self.input is None):
            raise InputError("give one source: --camera N or --input FILE")
        if not self.stall_timeout > 0:
            raise InputError(f"stall timeout must be a positive number of seconds, got {self.stall_timeout}")


def check_live_job(job: LiveJob) -> None:
    """The recording's path, before the camera or the file is opened (a recording refused at the
    end would be lost): not the input or the background image, not an existing file without
    ``overwrite``, writable. The options themselves are checked when the LiveJob is made."""
    check_outputs([None if job.output is None else Output(job.output, "--output")],
                  inputs=[job.input, job.background.image], overwrite=job.overwrite)


@dataclass(frozen=True)
class LiveReport:
    """shown: frames processed; dropped: frames that arrived but were replaced by a newer one
    before processing; latencies_ms: per shown frame, arrival to composite ready.
    stop: "end" (the stream ended), "interrupted" (Ctrl-C), "window" (closed from the preview),
    or "stalled" (no frame for the stall timeout)."""

    source: str
    shown: int
    dropped: int
    seconds: float
    latencies_ms: tuple[float, ...]
    stop: str
    stall_timeout: float = 0.0

    @property
    def arrived(self) -> int:
        return self.shown + self.dropped

    def to_json(self) -> dict:
        lat = np.asarray(self.latencies_ms or [0.0])
        return {"shown": self.shown, "dropped": self.dropped, "arrived": self.arrived,
                "seconds": round(self.seconds, 3), "fps": round(self.shown / max(self.seconds, 1e-9), 2),
                "latency_ms_median": round(float(np.median(lat)), 1),
                "latency_ms_p95": round(float(np.percentile(lat, 95)), 1),
                "latency_ms_max": round(float(lat.max()), 1), "stop": self.stop}

    def summary(self) -> str:
        share = 100.0 * self.dropped / max(self.arrived, 1)
        lat = np.asarray(self.latencies_ms or [0.0])
        reason = {"end": "end of stream", "interrupted": "interrupted", "window": "preview closed",
                  "stalled": f"stream stalled (no frame for {self.stall_timeout:g} s)"}[self.stop]
        return (f"live: {self.shown} frames shown, {self.dropped} dropped of {self.arrived} ({share:.1f}%) "
                f"in {self.seconds:.1f} s ({self.shown / max(self.seconds, 1e-9):.1f} FPS); latency ms: "
                f"median {np.median(lat):.1f}, p95 {np.percentile(lat, 95):.1f}, max {lat.max():.1f}; "
                f"stopped: {reason}")


def open_live_source(job: LiveJob) -> LiveSource:
    return CameraSource(job.camera) if job.camera is not None else PlaybackSource(job.input)


def run_live(job: LiveJob, person_model: PersonModel | None = None, source: LiveSource | None = None,
             on_frame=None) -> LiveReport:
    """Run live background replacement until the stream ends, stalls, or Ctrl-C.

    ``person_model``, ``source``: instead of ``job``'s (tests pass fakes). ``on_frame(composite)``
    is called with each composite (tests). The output video, if any, keeps every composited frame
    at its arrival position, so it plays in real time; it is committed on every kind of stop.
    """
    check_live_job(job)
    source = source if source is not None else open_live_source(job)
    reader = None
    try:
        compositor = Compositor(job.background, source.height, source.width)
        model = person_model if person_model is not None else load_person_model(job.model)
        with PortraitPipeline(model, job.config) as pipeline:
            preview = _Preview() if (job.preview if job.preview is not None else display_available()) else None
            video = VideoWriter(job.output, fps=source.fps, preset=VIDEO_PRESET) if job.output is not None else None
            # The recording is encoded in its own thread, off the path from arrival to preview.
            recorder = WorkerThread(lambda item: video.write(*item), depth=2) if video is not None else None
            mailbox = _Mailbox()
            reader = _Reader(source, mailbox)
            latencies: list[float] = []
            stop = "end"
            started = time.monotonic()
            reader.start()
            try:
                while True:
                    item = mailbox.take(job.stall_timeout)
                    if item is False:
                        stop = "stalled"
                        break
                    if item is None:
                        if mailbox.error is not None:
                            raise mailbox.error
                        break
                    composite = compositor(item.frame, pipeline.step(item.frame).person)
                    latencies.append((time.monotonic() - item.arrived) * 1000.0)
                    if recorder is not None:
                        recorder.submit((composite, item.position))
                    if on_frame is not None:
                        on_frame(composite)
                    if preview is not None and not preview.show(composite):
                        stop = "window"
                        break
            except KeyboardInterrupt:
                stop = "interrupted"
            except BaseException:
                if recorder is not None:
                    recorder.abort()
                    video.abort()
                raise
            finally:
                seconds = time.monotonic() - started
                if preview is not None:
                    preview.close()
            if recorder is not None:
                recorder.close()
                if latencies:
                    video.close()
                else:
                    video.abort()
    finally:
        stopped = reader is None or reader.stop()
        if stopped:  # a reader stuck in a driver call keeps the device; the process exit frees it
            source.close()
    dropped = reader.replaced if reader is not None else 0
    return LiveReport(source.name, len(latencies), dropped, seconds, tuple(latencies), stop, job.stall_timeout)


def display_available() -> bool:
    """Whether a preview window can be shown: a display server on Linux, or another desktop OS."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return sys.platform in ("darwin", "win32")


class _Preview:
    """The composite in an OpenCV window; off for good at the first error (a headless OpenCV)."""

    def __init__(self) -> None:
        self._on = True

    def show(self, composite: np.ndarray) -> bool:
        """Show one frame; False when the user asked to stop (q or Esc)."""
        if not self._on:
            return True
        import cv2

        try:
            cv2.imshow(PREVIEW_WINDOW, cv2.cvtColor(composite, cv2.COLOR_RGB2BGR))
            key = cv2.waitKey(1) & 0xFF
        except cv2.error:
            print("vidseg: no preview: this OpenCV cannot open windows (opencv-python-headless)", file=sys.stderr)
            self._on = False
            return True
        return key not in (ord("q"), 27)

    def close(self) -> None:
        if self._on:
            import cv2

            try:
                cv2.destroyWindow(PREVIEW_WINDOW)
            except cv2.error:
                pass
