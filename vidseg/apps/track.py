"""``vidseg track`` as a function: a video and one box in, a box and an outline mask per frame out.

The box is x0,y0,x1,y1 (:class:`vidseg.ops.boxes.Box`, as ``click --box`` and the Python API).
``OUT_DIR/boxes.txt`` gets one ``x,y,w,h`` line per frame, the tracking benchmarks' convention (the
first is the given box; ``0,0,0,0`` on frames where the object is lost), ``OUT_DIR/masks/`` one index PNG per frame named by frame stem
(object = 1, the filled polygon of the polar head). Every file is written atomically; on an
interruption the boxes of the frames done so far are still written.
"""

from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vidseg.apps.segment import SegmentStats
from vidseg.apps.threads import cpu_threads
from vidseg.engine.track.polar_tracker import PolarTracker, TrackerOptions, TrackResult
from vidseg.errors import InputError
from vidseg.io.atomic import write_text_atomic
from vidseg.io.frames import open_frames
from vidseg.io.masks import write_index_png
from vidseg.io.outputs import Output, check_outputs, make_output_folder
from vidseg.io.stages import WorkerThread, prefetch
from vidseg.nn.polar import MAX_RAYS, MIN_RAYS
from vidseg.ops.boxes import Box, check_box

LOST_LINE = "0,0,0,0"


@dataclass(frozen=True)
class TrackJob:
    input: Path
    box: Box  # on the first frame
    out_dir: Path
    model: str | Path = "default"
    options: TrackerOptions = TrackerOptions()
    overwrite: bool = False
    progress: bool = True
    threads: int = 1  # measured: one thread beats two on a 2-core machine as soon as anything else runs
    backend: str = "auto"  # "torch", "onnxruntime", or "auto": ONNX Runtime where installed


@dataclass(frozen=True)
class TrackStats(SegmentStats):
    """``vidseg segment --stats``'s figures and the frames where the object was lost."""

    lost_frames: int = 0

    def to_json(self) -> dict:
        return {**super().to_json(), "lost_frames": self.lost_frames}


def parse_rays(text: str | int | None) -> int | None:
    """``--rays`` -> a whole number from 3 to MAX_RAYS (None: the network's own); InputError otherwise."""
    if text is None:
        return None
    try:
        value = int(str(text))
    except ValueError:
        raise InputError(f"--rays {text!r} is not a whole number; give the outline's number of points, "
                         f"{MIN_RAYS} to {MAX_RAYS}") from None
    if not MIN_RAYS <= value <= MAX_RAYS:
        raise InputError(f"--rays {value} is out of range: give {MIN_RAYS} to {MAX_RAYS} points (one a degree at most; "
                         "the network has 36)")
    return value


def run_track(job: TrackJob) -> TrackStats:
    """Track ``job.box`` through ``job.input``; writes boxes.txt and masks/ into ``job.out_dir``.

    Decoding, tracking and writing run in three threads (:mod:`vidseg.io.stages`), and the network
    in one torch thread: it is small, and a second torch thread competing with the reader and the
    writer for 2 cores made it many times slower on a busy machine (measured: 46 vs 868 ms a frame).
    """
    check_track_job(job)
    with open_frames(job.input) as source, cpu_threads(job.threads):
        tracker = PolarTracker(job.model, job.options, backend=job.backend)  # ONNX Runtime takes the thread count now
        check_box(job.box, source.width, source.height)  # before any output exists
        masks_dir = job.out_dir / "masks"
        make_output_folder(masks_dir)
        lines: list[str] = []
        started = time.perf_counter()
        try:
            # closing(): the reader thread stops before the source closes, also on an error
            with tqdm(total=len(source), unit="frame", disable=not job.progress, desc="track", leave=False) as bar, \
                    WorkerThread(lambda item: write_index_png(*item)) as writer, \
                    closing(prefetch(source.iter_frames())) as frames:
                for index, frame in frames:
                    result = tracker.start(frame, job.box) if index == 0 else tracker.step(frame)
                    mask = result.mask(source.height, source.width).view(np.uint8)
                    writer.submit((masks_dir / f"{source.stems[index]}.png", mask))
                    lines.append(box_line(result))
                    bar.update(1)
        finally:
            if lines:
                write_text_atomic(job.out_dir / "boxes.txt", "\n".join(lines) + "\n")
        seconds = time.perf_counter() - started
    lost = sum(line == LOST_LINE for line in lines)
    return TrackStats.measured(len(lines), seconds, lost_frames=lost)


def check_track_job(job: TrackJob) -> None:
    """What can be checked before the network loads or a frame is decoded: the output folder
    (not an input, not a used folder without ``overwrite``, writable). The box is checked against
    the frame size once the video is open."""
    model = job.model if Path(job.model).exists() else None  # a shipped tag names no file
    check_outputs([Output(job.out_dir, "-o", folder=True)], inputs=[job.input, model], overwrite=job.overwrite)


def box_line(result: TrackResult) -> str:
    """``x,y,w,h`` (the tracking benchmarks' convention) with up to two decimals, or ``0,0,0,0`` when
    the object is lost."""
    if result.box is None:
        return LOST_LINE
    return ",".join(f"{round(v, 2):g}" for v in result.box.to_xywh())


def read_boxes(path: str | Path) -> list[tuple[float, float, float, float] | None]:
    """The x,y,w,h boxes of a boxes.txt (None for a lost frame), for scripts and tests."""
    boxes = []
    for line in Path(path).read_text().splitlines():
        values = tuple(float(v) for v in line.split(","))
        boxes.append(None if values == (0.0, 0.0, 0.0, 0.0) else values)
    return boxes

