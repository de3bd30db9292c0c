"""One video of a ``vidseg batch`` run, as a worker runs it: the segment pipeline plus the resume rules.

Outputs go to ``OUT_ROOT/<id>/<frame stem>.png`` through :func:`vidseg.apps.segment.run_segment`
(every PNG written atomically). The completion marker ``OUT_ROOT/<id>/.vidseg-done.json`` is
written last, so a folder without it is unfinished: a rerun deletes it and segments the video
again from the start, and since one video's output is a pure function of its input, prompt and
options (one thread per worker), the rerun ends with the bytes an uninterrupted run writes.
Nothing here imports Ray; the driver (:mod:`vidseg.apps.batch`) ships this function to workers.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from vidseg.apps.batch_manifest import BatchItem
from vidseg.errors import VidsegError
from vidseg.io.atomic import write_text_atomic

MARKER = ".vidseg-done.json"
MAX_REASON = 300  # characters of a failure reason in summary.json


@dataclass(frozen=True)
class BatchOptions:
    """How every video of a batch is segmented (the ``vidseg segment`` options batch exposes)."""

    method: str = "default"  # a method name or a checkpoint path
    preset: str = "fast"
    backend: str = "auto"  # "torch", "onnxruntime", or "auto": ONNX Runtime where installed


@dataclass(frozen=True)
class VideoOutcome:
    """What became of one video: ok with its frame count and time, or failed with a one-line reason."""

    id: str
    ok: bool
    reason: str | None = None
    frames: int = 0
    seconds: float = 0.0


def check_options(options: BatchOptions) -> None:
    """InputError unless every worker can build ``options.method``: a baseline, or a checkpoint that
    exists and holds a vos network that fits this version (loaded once here, on the driver,
    so a wrong --model is one error before the cluster starts, not one failure per video)."""
    from vidseg.engine.vos.methods import weights_for

    weights = weights_for(options.method)
    if weights is not None:
        from vidseg.nn.registry import load_model

        load_model("vos", weights, options.backend)


def marker_content(item: BatchItem, options: BatchOptions) -> dict:
    """The marker's identity part: the prompt and options that produced the folder."""
    return {"video": item.fingerprint(), "options": asdict(options)}


def is_finished(item: BatchItem, out_root: Path, options: BatchOptions) -> bool:
    """True when ``item``'s folder is complete and was made from the same input, prompt and options."""
    try:
        marker = json.loads((Path(out_root) / item.id / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("made_from") == marker_content(item, options)


def segment_video(item: BatchItem, out_root: Path, options: BatchOptions) -> VideoOutcome:
    """Segment one video into ``out_root/<id>/`` and mark it finished; any error becomes a failed
    outcome (its partial folder removed), so one bad video never stops a batch."""
    limit_threads()
    out_dir = Path(out_root) / item.id
    shutil.rmtree(out_dir, ignore_errors=True)  # what an interrupted run left: redo from the start
    started = time.perf_counter()
    try:
        from vidseg.apps.segment import SegmentJob, run_segment

        stats = run_segment(SegmentJob(input=item.input, mask=item.mask, box=item.box, out_dir=out_dir,
                                       method=options.method, preset=options.preset, progress=False,
                                       backend=options.backend))
    except Exception as error:  # noqa: BLE001 - isolating every failure is this function's job
        shutil.rmtree(out_dir, ignore_errors=True)
        return VideoOutcome(item.id, False, reason=describe(error))
    seconds = time.perf_counter() - started
    marker = {"made_from": marker_content(item, options), "frames": stats.frames}
    write_text_atomic(out_dir / MARKER, json.dumps(marker, indent=1) + "\n")
    return VideoOutcome(item.id, True, frames=stats.frames, seconds=seconds)


def describe(error: BaseException) -> str:
    """A failure as one line: a user error's own message, anything else prefixed by its type."""
    text = str(error) if isinstance(error, VidsegError) else f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def limit_threads() -> None:
    """One thread for torch and OpenCV: a worker is given one core, so N workers on N cores scale
    instead of fighting over them."""
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
