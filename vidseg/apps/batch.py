"""``vidseg batch``: segment every video of a manifest on a Ray cluster, resumably.

The driver checks the manifest, skips the videos whose folders are finished, and sends each
other video to a worker as one Ray task (:func:`vidseg.apps.batch_video.segment_video`, one CPU,
one thread). ``OUT_ROOT/summary.json`` (``{"ok": [ids], "failed": {id: reason}}``, manifest order)
is rewritten atomically after every video, so it always tells how far the run got.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from tqdm import tqdm

from vidseg.apps.batch_manifest import BatchItem, read_manifest
from vidseg.apps.batch_video import BatchOptions, VideoOutcome, check_options, is_finished, segment_video
from vidseg.errors import InputError, OutputError
from vidseg.io.atomic import write_text_atomic

ROOT_MARK = ".vidseg-batch"  # says OUT_ROOT is a batch's: a rerun may delete unfinished folders in it
SUMMARY = "summary.json"
TASK_RETRIES = 1  # a worker that dies (node lost, crash) is retried once; a video that kills two fails


@dataclass(frozen=True)
class BatchJob:
    manifest: Path
    out_root: Path
    address: str | None = None  # join this cluster; None starts a local one
    workers: int | None = None  # local: its CPUs (default: this machine's); joined: most videos at once
    options: BatchOptions = field(default_factory=BatchOptions)
    progress: bool = True


@dataclass
class BatchReport:
    """ok and failed in manifest order; ``skipped``: finished by an earlier run."""

    ok: list[str]
    failed: dict[str, str]
    skipped: int
    seconds: float

    def summary(self) -> dict:
        return {"ok": self.ok, "failed": self.failed}


def run_batch(job: BatchJob) -> BatchReport:
    """Segment the manifest's unfinished videos; returns what became of every one."""
    started = time.perf_counter()
    items = check_job(job)
    out_root = prepare_out_root(Path(job.out_root))
    with exclusive(out_root):
        return _run(job, items, out_root, started)


def check_job(job: BatchJob) -> list[BatchItem]:
    """Everything the user gave, checked before any folder is made or Ray starts (the docs promise
    exit 2 before anything starts): every manifest line, --workers and --model. Returns the items."""
    items = read_manifest(job.manifest)
    if job.workers is not None and (isinstance(job.workers, bool) or job.workers < 1):
        raise InputError(f"--workers is {job.workers}; give at least 1")
    check_options(job.options)
    return items


def _run(job: BatchJob, items: list[BatchItem], out_root: Path, started: float) -> BatchReport:
    finished = {item.id for item in items if is_finished(item, out_root, job.options)}
    outcomes = {item_id: VideoOutcome(item_id, True) for item_id in finished}
    todo = [item for item in items if item.id not in finished]
    if todo:
        from vidseg.apps.ray_cluster import import_ray

        import_ray()  # not installed: say so before any progress bar
    _write_summary(out_root, items, outcomes)
    with tqdm(total=len(items), initial=len(finished), unit="video", desc="batch", disable=not job.progress) as bar:
        if todo:
            for outcome in _run_on_cluster(job, todo, out_root):
                outcomes[outcome.id] = outcome
                _write_summary(out_root, items, outcomes)
                bar.update(1)
    report = _report(items, outcomes, len(finished))
    report.seconds = time.perf_counter() - started
    return report


@contextlib.contextmanager
def exclusive(out_root: Path) -> Iterator[None]:
    """Hold a lock on ``out_root``'s mark for the block, so two runs never write one folder. The
    kernel releases it however the run ends, SIGKILL included (on a network file system, as far as
    it supports flock)."""
    with open(out_root / ROOT_MARK, "rb") as mark:
        try:
            fcntl.flock(mark, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"another vidseg batch is writing {out_root}; wait for it to end, "
                              "or stop it and run this again") from None
        yield


def prepare_out_root(out_root: Path) -> Path:
    """``out_root`` made ready: new, empty, or an earlier batch's (whose finished videos are kept)."""
    if out_root.exists() and not out_root.is_dir():
        raise OutputError(f"output {out_root} is a file; give a folder for the batch's outputs")
    if out_root.is_dir() and any(out_root.iterdir()) and not (out_root / ROOT_MARK).exists():
        raise OutputError(f"output folder {out_root} holds files that vidseg batch did not write; choose a new "
                          "or empty folder (a folder from an earlier batch run is resumed)")
    out_root.mkdir(parents=True, exist_ok=True)
    if not (out_root / ROOT_MARK).exists():
        write_text_atomic(out_root / ROOT_MARK, "written by vidseg batch; a rerun resumes this folder\n")
    return out_root.resolve()


def _run_on_cluster(job: BatchJob, todo: list[BatchItem], out_root: Path) -> Iterator[VideoOutcome]:
    """Yield each video's outcome as its task ends, with at most a window of tasks queued at once."""
    from vidseg.apps.ray_cluster import cluster_cpus, ray_cluster

    local = job.address is None
    workers = (job.workers or os.cpu_count() or 1) if local else None
    with ray_cluster(job.address, workers) as ray:
        # Tasks queued beyond the free CPUs wait in Ray; twice the CPUs keeps every worker fed.
        # Joined with --workers N: at most N at once, leaving the rest of the cluster to others.
        window = 2 * workers if local else (job.workers or 2 * cluster_cpus(ray))
        task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(segment_video)
        queue = list(reversed(todo))
        running: dict = {}
        while queue or running:
            while queue and len(running) < window:
                item = queue.pop()
                running[task.remote(item, out_root, job.options)] = item
            done, _ = ray.wait(list(running), num_returns=1)
            item = running.pop(done[0])
            yield _result(ray, done[0], item)


def _result(ray: ModuleType, ref, item: BatchItem) -> VideoOutcome:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as error:  # the worker died; segment_video catches everything else
        return VideoOutcome(item.id, False, reason=f"its worker died ({type(error).__name__}); "
                                                   "the video may crash the decoder or need more memory")


def _report(items: list[BatchItem], outcomes: dict[str, VideoOutcome], skipped: int) -> BatchReport:
    ok = [item.id for item in items if item.id in outcomes and outcomes[item.id].ok]
    failed = {item.id: outcomes[item.id].reason or "" for item in items
              if item.id in outcomes and not outcomes[item.id].ok}
    return BatchReport(ok, failed, skipped, 0.0)


def _write_summary(out_root: Path, items: list[BatchItem], outcomes: dict[str, VideoOutcome]) -> None:
    summary = _report(items, outcomes, 0).summary()
    write_text_atomic(out_root / SUMMARY, json.dumps(summary, indent=2) + "\n")
