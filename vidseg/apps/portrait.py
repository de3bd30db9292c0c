"""``vidseg portrait`` as a function: a video in, person masks and a composited video out.

The CLI and ``benchmarks/portrait.py`` call :func:`run_portrait`, so the benchmark measures what a
user runs: decode, person model, fusion, mask PNGs, compositing, video encoding.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vidseg.apps.segment import SegmentStats
from vidseg.engine.portrait.backgrounds import BackgroundSpec, Compositor
from vidseg.engine.portrait.pipeline import PersonModel, PortraitConfig, PortraitPipeline, load_person_model
from vidseg.io.frames import open_frames
from vidseg.io.masks import write_index_png
from vidseg.io.outputs import Output, check_outputs, make_output_folder
from vidseg.io.sinks import DEFAULT_FPS
from vidseg.io.stages import WorkerThread, prefetch
from vidseg.io.writers import VideoWriter

# x264 preset of the composited video: a real-time budget (40 ms a frame at 25 FPS) leaves ~10 ms to
# encode 854x480; "superfast" takes ~30% less than the overlay's "veryfast" for ~30% larger files.
VIDEO_PRESET = "superfast"


@dataclass(frozen=True)
class PortraitJob:
    input: Path
    masks: Path
    output: Path | None = None
    background: BackgroundSpec = field(default_factory=BackgroundSpec.from_options)
    config: PortraitConfig = field(default_factory=PortraitConfig)
    model: str = "landscape"
    overwrite: bool = False
    progress: bool = True


@dataclass(frozen=True)
class PortraitStats(SegmentStats):
    """``vidseg segment --stats``'s figures; latencies_ms: per frame, from the start of its decoding
    to its outputs written."""

    latencies_ms: tuple[float, ...] = ()

    def to_json(self) -> dict:
        lat = np.asarray(self.latencies_ms or [0.0])
        return {**super().to_json(),
                "latency_ms_median": round(float(np.median(lat)), 1),
                "latency_ms_p95": round(float(np.percentile(lat, 95)), 1)}


@dataclass(frozen=True)
class _Done:
    """One frame on its way to the writer: started is when its decoding began (perf_counter)."""

    started: float
    index: int
    frame: np.ndarray
    mask: np.ndarray
    person: np.ndarray


def _timed(frames: Iterator[tuple[int, np.ndarray]]) -> Iterator[tuple[float, tuple[int, np.ndarray]]]:
    """Each item with the time its decoding started."""
    while True:
        t0 = time.perf_counter()
        item = next(frames, None)
        if item is None:
            return
        yield t0, item


def check_portrait_job(job: PortraitJob) -> None:
    """The outputs, before the video is opened or the model loaded: the masks folder and the
    video may be neither the input nor the background image, nor used without ``overwrite``."""
    check_outputs([Output(job.masks, "--masks", folder=True),
                   None if job.output is None else Output(job.output, "--output")],
                  inputs=[job.input, job.background.image], overwrite=job.overwrite)


def run_portrait(job: PortraitJob, person_model: PersonModel | None = None) -> PortraitStats:
    """Person masks (index PNGs, person = 1, named by frame stem) into ``job.masks`` and, with
    ``job.output``, the composited H.264 video. ``person_model``: instead of ``job.model``'s.

    Every input (video, background, model) is checked before any output is created; every file is
    written atomically, so an error or Ctrl-C never leaves a half-written one.
    """
    check_portrait_job(job)
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(open_frames(job.input))
        compositor = Compositor(job.background, source.height, source.width)  # a bad background fails even unused
        model = person_model if person_model is not None else load_person_model(job.model)
        pipeline = stack.enter_context(PortraitPipeline(model, job.config))
        make_output_folder(job.masks)
        video = None
        if job.output is not None:
            video = stack.enter_context(VideoWriter(job.output, fps=source.fps or DEFAULT_FPS, preset=VIDEO_PRESET))
        bar = stack.enter_context(tqdm(total=len(source), unit="frame", disable=not job.progress,
                                       desc="portrait", leave=False))
        latencies: list[float] = []

        def write(done: _Done) -> None:
            write_index_png(job.masks / f"{source.stems[done.index]}.png", done.mask)
            if video is not None:
                video.write(compositor(done.frame, done.person))
            latencies.append((time.perf_counter() - done.started) * 1000.0)
            bar.update(1)

        started = time.perf_counter()
        # Decoding, the model and fusion, and writing run in three threads (vidseg.io.stages); one
        # frame of slack each keeps the latency at a few frames.
        writer = stack.enter_context(WorkerThread(write, depth=1))
        frames = stack.enter_context(contextlib.closing(prefetch(_timed(source.iter_frames()), depth=1)))
        for t0, (index, frame) in frames:
            result = pipeline.step(frame)
            writer.submit(_Done(t0, index, frame, result.mask, result.person))
        writer.close()
        seconds = time.perf_counter() - started
    count = len(latencies)
    return PortraitStats.measured(count, seconds, latencies_ms=tuple(latencies))
