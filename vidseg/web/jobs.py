"""Propagation in the background: one thread per running job, progress and masks saved frame by frame.

A job is a list of passes (forward from the first changed frame to the end, then backward to frame 0
from there or from a later frame where an object was first selected). After each frame the thread writes the frame's mask file (atomically) and then records
its progress in one transaction, and looks at the cancel flag: a cancelled or interrupted job keeps
every frame it finished, and ``resume`` carries on from the last one.
"""

from __future__ import annotations

import logging
import threading

from vidseg.errors import InputError, VidsegError
from vidseg.io.masks import write_index_png
from vidseg.web.store import (CANCELLED, DONE, FAILED, INTERRUPTED, RUNNING, ConflictError, Job, Pass,
                               conflict_message)
from vidseg.web.workspace import OpenProject, Workspace

log = logging.getLogger(__name__)
RESUMABLE = frozenset({CANCELLED, INTERRUPTED, FAILED})


class PropagationJob:
    """Runs ``job`` on ``project``'s session in a thread; the caller holds ``project.lock``, the thread releases it."""

    def __init__(self, workspace: Workspace, project: OpenProject, job: Job) -> None:
        self.workspace = workspace
        self.project = project
        self.job = job
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"propagate-{project.id}", daemon=True)

    def _run(self) -> None:
        store, pid = self.workspace.store, self.project.id
        try:
            state, message = self._passes()
        except VidsegError as error:
            state, message = FAILED, str(error)
        except Exception as error:  # a bug: keep the server up, say so, keep the frames done
            log.exception("propagation of project %s failed", pid)
            state, message = FAILED, f"internal error ({error!r}); the frames done so far are kept; resume to retry"
        try:
            store.finish_job(pid, state, message)
        finally:
            self.project.job = None
            self.project.lock.release()

    def _passes(self) -> tuple[str, str]:
        store, pid, session = self.workspace.store, self.project.id, self.project.session
        done = 0
        for index in range(self.job.pass_index, len(self.job.passes)):
            p = self.job.passes[index]
            if index != self.job.pass_index:
                store.next_pass(pid, index)
            for frame, labels in session.propagate(start=p.start, reverse=p.reverse):
                write_index_png(store.mask_path(pid, frame), labels)
                store.frame_done(pid, index, frame)
                done += 1
                if self.cancelled.is_set():
                    return CANCELLED, f"cancelled after {done} frames; the masks computed so far are kept"
        return DONE, ""


def plan(project: OpenProject) -> tuple[Pass, ...]:
    """Forward from the first frame changed since the last pass (else the first prompted one) to the
    end, then backward to frame 0 from the later of that frame and the first prompt of each object
    new or changed there, so an object first selected on a later frame reaches frame 0 too."""
    held = project.session.snapshot()
    if not held.prompts:
        raise InputError("no object yet: draw a box or click on an object before propagating")
    start = min(held.pending or held.prompts.keys())
    back = max([start, *first_prompts(held.prompts, held.pending or held.prompts.keys())])
    return (Pass(start, False),) + ((Pass(back, True),) if back > 0 else ())


def first_prompts(prompts, changed) -> list[int]:
    """The frame of each object's first prompt, for the objects first prompted on a ``changed`` frame.

    The backward pass starts at the latest of them: the forward pass has carried every object
    prompted up to there into that frame's result, which the backward pass starts from."""
    first: dict[int, int] = {}
    for frame in sorted(prompts):
        for obj_id in prompts[frame].objects:
            first.setdefault(obj_id, frame)
    changed = set(changed)
    return [frame for frame in first.values() if frame in changed]


def frames_in(passes: tuple[Pass, ...], num_frames: int) -> int:
    return sum(p.start + 1 if p.reverse else num_frames - p.start for p in passes)


def start(workspace: Workspace, project_id: int, version: int, resume: bool = False) -> Job:
    """Start propagating (or resume the stopped job); returns the job as stored. The project's lock
    is taken here and released by the job's thread."""
    project = workspace.get(project_id)
    workspace.busy_guard(project)  # acquires; released below on failure, else by the thread
    try:
        passes = _resume_passes(workspace, project_id) if resume else plan(project)
        job = Job(RUNNING, passes, 0, None, 0, frames_in(passes, project.session.num_frames), "")
        with workspace.store.transaction() as db:
            current = workspace.store.project(project_id).version
            if current != version:
                raise ConflictError(conflict_message(current, version))
            workspace.store.bump_version(db, project_id, version)
            workspace.store.start_job(db, project_id, job)
        runner = PropagationJob(workspace, project, job)
        project.job = runner
        runner.thread.start()
    except BaseException:
        project.job = None
        project.lock.release()
        raise
    return job


def _resume_passes(workspace: Workspace, project_id: int) -> tuple[Pass, ...]:
    """The stopped job's remaining passes, the current one restarting at its last finished frame."""
    job = workspace.store.job(project_id)
    if job is None or job.state not in RESUMABLE:
        raise InputError("there is no stopped propagation to resume; press Propagate instead")
    current = job.passes[job.pass_index]
    first = current if job.last_frame is None else Pass(job.last_frame, current.reverse)
    return (first,) + job.passes[job.pass_index + 1:]


def cancel(workspace: Workspace, project_id: int) -> None:
    runner = workspace.get(project_id).job
    if runner is None:
        raise InputError("no propagation is running on this project")
    runner.cancelled.set()


def stop_all(workspace: Workspace, timeout: float = 60.0) -> None:
    """Cancel every running job and wait for each to finish its frame (server shutdown)."""
    runners = [p.job for p in workspace.open_projects() if p.job is not None]
    for runner in runners:
        runner.cancelled.set()
    for runner in runners:
        runner.thread.join(timeout)
