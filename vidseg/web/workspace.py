"""Open projects: one engine ``Session`` per project, rebuilt from the store, and the edits on it.

Every edit goes through the session (``add_box``, ``add_clicks``: the same code as the Python API
and the CLI), then lands in the store in one transaction with the project's version bumped. One
lock per project lets one edit or one propagation touch the session at a time; a request that
finds it taken is told why instead of waiting.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
import numpy as np

from vidseg.engine.session import Prompt, Session, SessionSnapshot
from vidseg.errors import InputError
from vidseg.io.frames import FrameSource, open_frames
from vidseg.io.masks import read_mask, write_index_png
from vidseg.ops.boxes import Box
from vidseg.web.store import ConflictError, Project, Store, StoredPrompt, conflict_message


@dataclass
class OpenProject:
    """A project's live state. ``lock``: held by an edit, an export or a propagation pass."""

    id: int
    session: Session
    viewer: FrameSource  # a second reader of the video for the browser's frames, so they never wait on a pass
    lock: threading.Lock = field(default_factory=threading.Lock)
    viewer_lock: threading.Lock = field(default_factory=threading.Lock)
    job: object | None = None  # the running jobs.PropagationJob, if any


class Workspace:
    """The store plus the open projects and the segmenter they share (weights loaded once)."""

    def __init__(self, store: Store, method: str = "default", interactive_model: str = "default",
                 backend: str = "auto") -> None:
        self.store = store
        self.method = method
        self.interactive_model = interactive_model
        self.backend = backend
        self._segmenter = None
        self._open: dict[int, OpenProject] = {}
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._warm = False
        self._warming: threading.Thread | None = None

    def segmenter(self):
        """The VideoSegmenter every project's session comes from; it owns both networks, loaded here."""
        with self._model_lock:
            if self._segmenter is None:
                from vidseg.engine.segmenter import VideoSegmenter

                segmenter = VideoSegmenter(model=self.method, interactive_model=self.interactive_model,
                                           backend=self.backend)
                segmenter.interactive_net()  # loaded now, not at a project's first click
                self._segmenter = segmenter
            return self._segmenter

    @property
    def models_ready(self) -> bool:
        """True once ``warm_up`` has finished."""
        return self._warm

    def warm_up(self) -> threading.Thread:
        """Load the networks in the background, so the first upload and click do not wait for them.

        A one-frame session with a box also builds a propagator and runs the click network once: the
        propagator's optimiser (online adaptation) imports torch's compiler stack on first use (5 s on
        the 2-core machine), and the first inference sets up kernels."""
        def load() -> None:
            with self.segmenter().open(np.zeros((1, 64, 64, 3), np.uint8)) as session:
                session.add_box(0, 1, (8, 8, 40, 40))  # the first inference sets up torch's kernels (~1 s)
            self._warm = True

        thread = threading.Thread(target=load, name="warm-up", daemon=True)
        thread.start()
        self._warming = thread
        return thread

    def get(self, project_id: int) -> OpenProject:
        """The open project, opened and restored from the store on first use."""
        with self._lock:
            if project_id not in self._open:
                self._open[project_id] = self._restore(self.store.project(project_id))
            return self._open[project_id]

    def _restore(self, project: Project) -> OpenProject:
        path = self.store.root / project.video
        session = self.segmenter().open(path)
        prompts = self.store.prompts(project.id)
        stored = SessionSnapshot(objects=tuple(self.store.objects(project.id)),
                                 prompts={p.frame: Prompt(p.labels, p.objects) for p in prompts},
                                 pending=frozenset(p.frame for p in prompts if p.pending),
                                 computed=frozenset(f for f in self.store.computed_frames(project.id)
                                                    if f < session.num_frames))
        session.restore(stored, lambda frame: read_mask(self.store.mask_path(project.id, frame)).labels)
        return OpenProject(project.id, session, open_frames(path))

    def open_projects(self) -> list[OpenProject]:
        with self._lock:
            return list(self._open.values())

    def close(self) -> None:
        # A process that exits while the warm-up thread is inside torch aborts ("terminate called
        # without an active exception"): a server stopped during its first seconds waits for it.
        if self._warming is not None:
            self._warming.join(timeout=60)
        with self._lock:
            for project in self._open.values():
                project.session.close()
                project.viewer.close()
            self._open.clear()

    # -- edits ---------------------------------------------------------------------------------

    def add_box(self, project_id: int, version: int, frame: int, obj_id: int,
                box: Box) -> tuple[np.ndarray, int]:
        """Select or restart ``obj_id`` on ``frame`` by a box; returns (the frame's labels, new version)."""
        return self._edit(project_id, version, frame, lambda s: s.add_box(frame, obj_id, box))

    def add_clicks(self, project_id: int, version: int, frame: int, obj_id: int,
                   clicks: list[tuple[float, float, bool]]) -> tuple[np.ndarray, int]:
        """Select or correct ``obj_id`` on ``frame`` by clicks; returns (the frame's labels, new version)."""
        return self._edit(project_id, version, frame, lambda s: s.add_clicks(frame, obj_id, clicks))

    def _edit(self, project_id: int, version: int, frame: int, change) -> tuple[np.ndarray, int]:
        project = self.get(project_id)
        with self.busy_guard(project):
            self._check_version(project_id, version)
            before = stored_prompt(project.session, frame)
            labels = change(project.session)
            prompt = project.session.prompt(frame)
            with self.store.transaction() as db:
                new_version = self.store.bump_version(db, project_id, version)
                self.store.save_prompt(db, project_id, frame, prompt.labels, prompt.objects)
                self.store.push_undo(db, project_id, frame, before)
        return labels, new_version

    def undo(self, project_id: int, version: int) -> int:
        """Take back the last click or box: its frame's prompt as it was before. Returns the frame."""
        project = self.get(project_id)
        with self.busy_guard(project):
            self._check_version(project_id, version)
            with self.store.transaction() as db:
                frame, before = self.store.pop_undo(db, project_id)
                self.store.bump_version(db, project_id, version)
                self.store.put_prompt(db, project_id, frame, before)
                # Inside the transaction: if the session refused, nothing of the undo would be stored.
                undone = project.session.prompt(frame)
                project.session.set_prompt(frame, None if before is None else Prompt(before.labels, before.objects))
                if before is not None and not before.pending:
                    project.session.state.pending.discard(frame)
                for obj_id in (undone.objects if undone else frozenset()) - (before.objects if before else frozenset()):
                    if not self._anywhere(project.session, obj_id):  # its first selection undone: no object left
                        project.session.remove_object(obj_id)
                        db.execute("DELETE FROM objects WHERE project_id=? AND obj_id=?", (project_id, obj_id))
        return frame

    @staticmethod
    def _anywhere(session: Session, obj_id: int) -> bool:
        """Whether ``obj_id`` is in a prompt or a computed mask of ``session``."""
        held = session.snapshot()
        return (any(obj_id in p.objects for p in held.prompts.values())
                or any((session.result(f) == obj_id).any() for f in held.computed))

    def delete_object(self, project_id: int, version: int, obj_id: int) -> None:
        """The object leaves every prompt and mask (its computed masks are rewritten without it)."""
        project = self.get(project_id)
        with self.busy_guard(project):
            self._check_version(project_id, version)
            with self.store.transaction() as db:
                self.store.bump_version(db, project_id, version)
                changed = project.session.remove_object(obj_id)
                self.store.delete_prompts(db, project_id)  # the session's prompts, without the object, go back
                for frame in project.session.snapshot().prompts:
                    self.store.put_prompt(db, project_id, frame, stored_prompt(project.session, frame))
                self.store.delete_object(db, project_id, obj_id)
                # Mask files are written before the commit: after a kill in between, a file lacks the object
                # the database still has, and deleting it again finishes the job.
                for frame in changed:
                    write_index_png(self.store.mask_path(project_id, frame), project.session.result(frame))

    def delete_project(self, project_id: int) -> Project:
        """Close the project (refused while a propagation runs) and delete its rows and files."""
        project = self.get(project_id)
        with self.busy_guard(project):
            with self._lock:
                self._open.pop(project_id, None)
            project.session.close()
            project.viewer.close()
            return self.store.delete_project(project_id)

    def _check_version(self, project_id: int, version: int) -> None:
        """Before the work: ConflictError if another tab changed the project since this one read it."""
        current = self.store.project(project_id).version
        if current != version:
            raise ConflictError(conflict_message(current, version))

    def busy_guard(self, project: OpenProject):
        """The project's lock, or ConflictError at once when a propagation (or another edit) holds it."""
        if not project.lock.acquire(blocking=False):
            raise ConflictError("this project is busy: a propagation is running (cancel it or wait for it "
                                "to finish), or another edit is in progress")
        return _Release(project.lock)

    def frame_labels(self, project_id: int, frame: int) -> np.ndarray:
        """What the user sees on ``frame``: its result with its prompt on top (H, W) uint8."""
        return self.get(project_id).session.labels(frame)

    def read_frame(self, project_id: int, frame: int) -> np.ndarray:
        project = self.get(project_id)
        if not 0 <= frame < len(project.viewer):
            raise InputError(f"frame {frame} is outside the video's frames 0..{len(project.viewer) - 1}")
        with project.viewer_lock:
            return project.viewer.read(frame)


def stored_prompt(session: Session, frame: int) -> StoredPrompt | None:
    """``frame``'s prompt as the store keeps it, pending or not; None when it has none."""
    prompt = session.prompt(frame)
    if prompt is None:
        return None
    return StoredPrompt(frame, prompt.labels, prompt.objects, frame in session.state.pending)


class _Release:
    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

