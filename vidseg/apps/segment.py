"""``vidseg segment`` as a function: input + masks in, index PNGs and optional extras out.

The CLI, the demo and the benchmarks call :func:`run_segment`, so they measure the same pipeline
a user runs: decode, propagate, encode.
"""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from vidseg.apps.prompts import SelectionPrompt, number_prompts, warn_if_outside
from vidseg.apps.threads import cpu_threads
from vidseg.engine.segmenter import VideoSegmenter
from vidseg.engine.vos.methods import weights_for
from vidseg.errors import InputError
from vidseg.io.masks import write_index_png
from vidseg.io.outputs import Output, check_outputs, make_output_folder
from vidseg.io.prompts import read_mask_prompts
from vidseg.io.sinks import Sink, open_sinks
from vidseg.ops.boxes import check_box

if TYPE_CHECKING:
    from vidseg.engine.vos.presets import PropagatorConfig
    from vidseg.engine.session import Session



@dataclass(frozen=True)
class SegmentJob:
    """One video to segment. The prompts are ``mask`` (an index PNG or a folder of them), ``box``:
    (x0, y0, x1, y1) pixels on frame 0, x1 and y1 exclusive, which the interactive network turns
    into the mask of object 1 (``vidseg batch`` manifests give boxes), and ``prompts``: boxes and
    points on any frame (``--box`` / ``--point``), at least one of the three."""

    input: Path
    mask: Path | None
    out_dir: Path
    method: str = "default"  # a method name or a checkpoint path
    preset: str = "fast"
    adapt: bool | None = None  # None: the preset's choice
    fusion: bool | None = None
    refind: bool | None = None
    network_config: PropagatorConfig | None = None  # replaces the preset (benchmarks use it)
    overlay: Path | None = None
    alpha: Path | None = None
    rle: Path | None = None
    overwrite: bool = False
    progress: bool = True
    box: tuple[float, float, float, float] | None = None
    threads: int | None = None  # compute threads (None: apps.threads.default_threads)
    prompts: tuple[SelectionPrompt, ...] = ()
    backend: str = "auto"  # "torch", "onnxruntime", or "auto": ONNX Runtime where installed


@dataclass(frozen=True)
class SegmentStats:
    """What ``--stats`` prints: frames, seconds of processing (start-up excluded), fps, peak memory.
    Other commands' stats extend it with fields of their own."""

    frames: int
    seconds: float
    fps: float
    peak_rss_mb: float

    @classmethod
    def measured(cls, frames: int, seconds: float, **extra: object) -> SegmentStats:
        """Stats of a run that did ``frames`` in ``seconds``, with this process's peak memory now."""
        return cls(frames, seconds, frames / max(seconds, 1e-9), peak_rss_mb(), **extra)

    def to_json(self) -> dict:
        return {"frames": self.frames, "seconds": round(self.seconds, 3), "fps": round(self.fps, 2),
                "peak_rss_mb": round(self.peak_rss_mb, 1)}


@dataclass(frozen=True)
class RefindStats(SegmentStats):
    """``--stats`` of a run with ``--refind``: how often an object was lost, and found again."""

    lost: int = 0
    found: int = 0

    def to_json(self) -> dict:
        return {**super().to_json(), "lost": self.lost, "found": self.found}


class LostAndFound:
    """Follows which objects re-finding holds lost, frame by frame; says each change through ``say``."""

    def __init__(self, say: Callable[[str], None] | None) -> None:
        self.say, self.lost_now, self.lost, self.found = say, set(), 0, 0

    def see(self, stem: str, lost: set[int]) -> None:
        for obj_id in sorted(lost - self.lost_now):
            self._tell(f"object {obj_id} lost at frame {stem} (hidden or gone); its mask is cleared until found")
        for obj_id in sorted(self.lost_now - lost):
            self._tell(f"object {obj_id} found again at frame {stem}")
        self.lost += len(lost - self.lost_now)
        self.found += len(self.lost_now - lost)
        self.lost_now = lost

    def _tell(self, message: str) -> None:
        if self.say is not None:
            self.say(message)


def _segmenter(job: SegmentJob) -> VideoSegmenter:
    """Built inside the thread setting: ONNX Runtime fixes its thread count when a network is built."""
    return VideoSegmenter(model=job.method, preset=job.preset, adapt=job.adapt, fusion=job.fusion,
                          config=job.network_config, refind=job.refind, backend=job.backend)


def run_segment(job: SegmentJob, say: Callable[[str], None] | None = None) -> SegmentStats:
    """Segment ``job.input`` from ``job.mask``; writes one index PNG per frame into ``job.out_dir``.

    Frames before the first mask get empty masks. Every file is written atomically. ``say``: told
    when re-finding loses an object and finds it again (one line each).
    """
    check_segment_job(job)
    with contextlib.ExitStack() as run:
        run.enter_context(cpu_threads(job.threads))
        segmenter = _segmenter(job)
        session = run.enter_context(segmenter.open(job.input))
        palette = _add_prompts(job, session)
        make_output_folder(job.out_dir)
        started = time.perf_counter()
        with contextlib.ExitStack() as outputs:
            extras = _open_extras(job, session.source.fps, palette, outputs)
            bar = outputs.enter_context(tqdm(total=session.num_frames, unit="frame", disable=not job.progress,
                                             desc="segment", leave=False))
            events = LostAndFound(say)
            for index, frame, labels in session.propagate_frames(include_unprompted=True):
                stem = session.stems[index]
                write_index_png(job.out_dir / f"{stem}.png", labels, palette)
                for sink in extras:
                    sink(index, stem, frame, labels)
                events.see(stem, session.lost_objects())
                bar.update(1)
        seconds = time.perf_counter() - started
    frames = session.num_frames
    if getattr(segmenter.config, "refind", None) is not None:
        return RefindStats.measured(frames, seconds, lost=events.lost, found=events.found)
    return SegmentStats.measured(frames, seconds)


def check_segment_job(job: SegmentJob) -> None:
    """Everything about ``job`` that can be checked before a model loads or a frame is decoded:
    the method, and every output (none may be an input, a used folder or an existing file without
    ``overwrite``, or unwritable). The CLI, the demo and ``vidseg batch`` all pass through it."""
    if job.mask is not None and job.box is not None:
        raise ValueError("a SegmentJob takes a mask or a box, not both")
    if job.mask is None and job.box is None and not job.prompts:
        raise InputError("nothing says which object to segment: give --mask, --box or --point")
    check_method(job.method)
    alpha_is_video = job.alpha is not None and job.alpha.suffix.lower() == ".webm"
    check_outputs([Output(job.out_dir, "-o", folder=True),
                   None if job.overlay is None else Output(job.overlay, "--overlay"),
                   None if job.alpha is None else Output(job.alpha, "--alpha", folder=not alpha_is_video),
                   None if job.rle is None else Output(job.rle, "--rle")],
                  inputs=[job.input, job.mask, weights_for(job.method)], overwrite=job.overwrite)


def check_method(name: str) -> None:
    """InputError unless ``name`` is a method or an existing checkpoint file."""
    weights = weights_for(name)  # refuses an unknown name and missing default weights
    if weights is not None and not weights.exists():
        raise InputError(f"checkpoint {weights} does not exist; give the path of a .pt file written by 'vidseg train'")


def _add_prompts(job: SegmentJob, session: Session) -> bytes | None:
    """Give the session ``job``'s mask files, box and selection prompts; returns the palette for
    the outputs (the first mask's, or None for the default one)."""
    palette = None
    if job.box is not None:
        session.add_box(0, 1, job.box)
    if job.mask is not None:
        masks = read_mask_prompts(job.mask, session.stems, session.source.height, session.source.width)
        for index, labels in masks.masks.items():
            session.add_mask(index, labels)
        palette = masks.palette
    for prompt in number_prompts(job.prompts, used=session.snapshot().objects):
        if prompt.box is not None:
            width, height = session.source.width, session.source.height
            warn_if_outside(check_box(prompt.box, width, height), width, height, "--box", prompt.frame)
            session.add_box(prompt.frame, prompt.obj_id, prompt.box)
        else:
            session.add_clicks(prompt.frame, prompt.obj_id, [(*prompt.point, True)])
    return palette


def _open_extras(job: SegmentJob, fps: float | None, palette: bytes | None, stack: contextlib.ExitStack) -> list[Sink]:
    return open_sinks(stack, fps, palette, overlay=job.overlay, alpha=job.alpha, rle=job.rle)


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    exec, so a process started by a big parent (a benchmark) would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
