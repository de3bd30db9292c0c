"""``vidseg segment`` as a function: input + masks in, index PNGs and optional extras out.

The CLI, the demo and the benchmarks call :func:`run_segment`, so they measure the same pipeline
a user runs: decode, propagate, encode.
"""

from __future__ import annotations

import contextlib
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING


from tqdm import tqdm

from vidseg.engine.segmenter import VideoSegmenter
from vidseg.errors import OutputError
from vidseg.io.masks import write_index_png
from vidseg.io.prompts import read_mask_prompts
from vidseg.io.sinks import Sink, open_sinks

if TYPE_CHECKING:
    from vidseg.engine.vos.presets import NetworkConfig
    from vidseg.engine.session import Session



@dataclass(frozen=True)
class SegmentJob:
    """One video to segment. The prompt is ``mask`` (an index PNG or a folder of them) or ``box``:
    (x0, y0, x1, y1) pixels on frame 0, x1 and y1 exclusive, which the interactive network turns
    into the mask of object 1 (``vidseg batch`` manifests give boxes)."""

    input: Path
    mask: Path | None
    out_dir: Path
    method: str = "default"  # a method name or a checkpoint path
    preset: str = "fast"
    adapt: bool | None = None  # None: the preset's choice
    fusion: bool | None = None
    refind: bool | None = None
    network_config: NetworkConfig | None = None  # replaces the preset (benchmarks use it)
    overlay: Path | None = None
    alpha: Path | None = None
    rle: Path | None = None
    overwrite: bool = False
    progress: bool = True
    box: tuple[float, float, float, float] | None = None


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


def run_segment(job: SegmentJob) -> SegmentStats:
    """Segment ``job.input`` from ``job.mask``; writes one index PNG per frame into ``job.out_dir``.

    Frames before the first mask get empty masks. Every file is written atomically.
    """
    segmenter = VideoSegmenter(model=job.method, preset=job.preset, adapt=job.adapt, fusion=job.fusion,
                               config=job.network_config, refind=job.refind)
    with segmenter.open(job.input) as session:
        palette = _add_prompts(job, session)
        prepare_out_dir(job.out_dir, job.overwrite)
        started = time.perf_counter()
        with contextlib.ExitStack() as outputs:
            extras = _open_extras(job, session.source.fps, palette, outputs)
            bar = outputs.enter_context(tqdm(total=session.num_frames, unit="frame", disable=not job.progress,
                                             desc="segment", leave=False))
            for index, frame, labels in session.propagate_frames(include_unprompted=True):
                stem = session.stems[index]
                write_index_png(job.out_dir / f"{stem}.png", labels, palette)
                for sink in extras:
                    sink(index, stem, frame, labels)
                bar.update(1)
        seconds = time.perf_counter() - started
    frames = session.num_frames
    return SegmentStats.measured(frames, seconds)


def _add_prompts(job: SegmentJob, session: Session) -> bytes | None:
    """Give the session ``job``'s mask files or box; returns the palette for the outputs (the
    first mask's, or None for the default one)."""
    if (job.mask is None) == (job.box is None):
        raise ValueError("a SegmentJob takes a mask or a box, exactly one of them")
    if job.box is not None:
        session.add_box(0, 1, job.box)
        return None
    prompts = read_mask_prompts(job.mask, session.stems, session.source.height, session.source.width)
    for index, labels in prompts.masks.items():
        session.add_mask(index, labels)
    return prompts.palette


def prepare_out_dir(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"output {out_dir} is a file; give a folder for the masks")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise OutputError(
            f"output folder {out_dir} already holds files; choose a new or empty folder, or pass --overwrite"
        )
    out_dir.mkdir(parents=True, exist_ok=True)




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
