"""What the web application must not lose: projects, objects, prompts and jobs in SQLite, masks as files.

Layout of the data folder::

    vidseg.sqlite                     projects, objects, prompts (index PNG bytes), jobs
    videos/                           uploaded videos, and videos the user puts there to open
    projects/<id>/frames/00000.jpg    the video's frames for the browser
    projects/<id>/masks/00000.png     each segmented frame's label map (index PNG)
    projects/<id>/exports/            the latest export zips

Every change of the database is one transaction, and every file is written atomically
(``vidseg.io.atomic``), so a server killed at any point leaves the old state or the new one.
A mask file is written before the transaction that records the frame's progress: after a kill
between the two the file is there (and is loaded) while the job's counter lags by one frame.
"""

from __future__ import annotations

import io
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidseg.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, video TEXT NOT NULL, num_frames INTEGER NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, fps REAL, version INTEGER NOT NULL DEFAULT 1,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE, obj_id INTEGER NOT NULL,
    PRIMARY KEY (project_id, obj_id));
CREATE TABLE IF NOT EXISTS prompts (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE, frame INTEGER NOT NULL,
    labels BLOB NOT NULL, objects TEXT NOT NULL, pending INTEGER NOT NULL,
    PRIMARY KEY (project_id, frame));
CREATE TABLE IF NOT EXISTS jobs (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE, state TEXT NOT NULL,
    passes TEXT NOT NULL, pass_index INTEGER NOT NULL, last_frame INTEGER, done INTEGER NOT NULL,
    total INTEGER NOT NULL, message TEXT NOT NULL DEFAULT '', updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS object_names (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE, obj_id INTEGER NOT NULL,
    name TEXT NOT NULL, PRIMARY KEY (project_id, obj_id));
CREATE TABLE IF NOT EXISTS undo (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE, frame INTEGER NOT NULL,
    labels BLOB, objects TEXT, pending INTEGER NOT NULL);
"""
# Columns added after the first release: (table, column, declaration), added to older databases at open.
ADDED_COLUMNS = (("projects", "sha256", "TEXT"),)
UNDO_DEPTH = 50  # edits kept for undo per project


# Job states. "interrupted": the server stopped while the job ran (found at the next start).
RUNNING, DONE, CANCELLED, FAILED, INTERRUPTED = "running", "done", "cancelled", "failed", "interrupted"


class ConflictError(InputError):
    """The project changed since the client last read it (another tab), or is busy."""


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    video: str  # relative to the data folder
    num_frames: int
    width: int
    height: int
    fps: float | None
    version: int
    sha256: str | None = None  # an uploaded video's content hash: the same file again opens this project


@dataclass(frozen=True)
class StoredPrompt:
    frame: int
    labels: np.ndarray  # (H, W) uint8 object ids
    objects: frozenset[int]
    pending: bool


@dataclass(frozen=True)
class Pass:
    """One propagation pass: from ``start`` to the end of the video, or to frame 0 if ``reverse``."""

    start: int
    reverse: bool


@dataclass(frozen=True)
class Job:
    state: str
    passes: tuple[Pass, ...]
    pass_index: int  # the pass running (or to resume)
    last_frame: int | None  # the last frame the running pass finished
    done: int
    total: int
    message: str

    def to_json(self) -> dict:
        return {"state": self.state, "done": self.done, "total": self.total, "last_frame": self.last_frame,
                "message": self.message}


class Store:
    """The data folder: one SQLite database (thread-safe through one lock) and the project files."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "videos").mkdir(exist_ok=True)
        (self.root / "projects").mkdir(exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.root / "vidseg.sqlite", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL keeps the database consistent and every commit durable when the process
        # is killed (only a power cut may lose the last commits); FULL's fsync per commit cost ~10 ms.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            self._db.executescript(SCHEMA)
            self._add_columns()
        self._mark_interrupted()
        self._sweep_leftovers()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic change: committed when the block ends, rolled back if it raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _add_columns(self) -> None:
        """A database made by an older vidseg gets the columns added since."""
        for table, column, declaration in ADDED_COLUMNS:
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def _mark_interrupted(self) -> None:
        """Jobs still 'running' in the database belong to a server that stopped: say so, keep their place."""
        with self.transaction() as db:
            db.execute("UPDATE jobs SET state=?, message=?, updated=? WHERE state=?",
                       (INTERRUPTED, "the server stopped during propagation; resume to finish", time.time(), RUNNING))

    def _sweep_leftovers(self) -> None:
        """Remove what writes cut short by a stopped server left: hidden temporary uploads, export
        folders and atomic-write files. None of them was ever visible under its final name."""
        import shutil

        patterns = ("videos/.upload-*", "projects/*/exports/.export-*", "projects/*/*/.*.tmp*")
        for path in (p for pattern in patterns for p in self.root.glob(pattern)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    # -- paths ---------------------------------------------------------------------------------

    def project_dir(self, project_id: int) -> Path:
        return self.root / "projects" / str(int(project_id))

    def mask_path(self, project_id: int, frame: int) -> Path:
        return self.project_dir(project_id) / "masks" / f"{int(frame):05d}.png"

    def frame_path(self, project_id: int, frame: int) -> Path:
        return self.project_dir(project_id) / "frames" / f"{int(frame):05d}.jpg"

    # -- projects ------------------------------------------------------------------------------

    def create_project(self, name: str, video: str, num_frames: int, width: int, height: int,
                       fps: float | None, sha256: str | None = None) -> Project:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO projects (name, video, num_frames, width, height, fps, created, sha256) "
                "VALUES (?,?,?,?,?,?,?,?)", (name, video, num_frames, width, height, fps, time.time(), sha256))
            return self._project(db, cursor.lastrowid)

    def find_project(self, video: str | None = None, sha256: str | None = None) -> Project | None:
        """The newest project of the data folder's ``video`` or of an upload with content ``sha256``."""
        column, value = ("video", video) if sha256 is None else ("sha256", sha256)
        with self._lock:
            row = self._db.execute(f"SELECT id FROM projects WHERE {column}=? ORDER BY id DESC LIMIT 1",
                                   (value,)).fetchone()
            return None if row is None else self._project(self._db, row[0])

    def rename_project(self, project_id: int, name: str) -> None:
        with self.transaction() as db:
            self._project(db, project_id)  # LookupError if it is gone
            db.execute("UPDATE projects SET name=?, version=version+1 WHERE id=?", (check_name(name), project_id))

    def delete_project(self, project_id: int) -> Project:
        """Its rows (objects, prompts, jobs, names, undo go with it) and its folder; returns what it was."""
        import shutil

        with self.transaction() as db:
            project = self._project(db, project_id)
            db.execute("DELETE FROM projects WHERE id=?", (project_id,))
        shutil.rmtree(self.project_dir(project_id), ignore_errors=True)
        return project

    def project(self, project_id: int) -> Project:
        with self._lock:
            return self._project(self._db, project_id)

    def projects(self) -> list[Project]:
        with self._lock:
            ids = [row[0] for row in self._db.execute("SELECT id FROM projects ORDER BY id DESC")]
            return [self._project(self._db, i) for i in ids]

    @staticmethod
    def _project(db: sqlite3.Connection, project_id: int) -> Project:
        row = db.execute("SELECT id, name, video, num_frames, width, height, fps, version, sha256 FROM projects "
                         "WHERE id=?",
                         (int(project_id),)).fetchone()
        if row is None:
            raise LookupError(f"project {project_id} does not exist; open one from the project list")
        return Project(*row)

    def bump_version(self, db: sqlite3.Connection, project_id: int, expected: int | None) -> int:
        """Inside a transaction: check the client's ``expected`` version and advance it.

        ConflictError when another client (a second tab) changed the project since."""
        current = self._project(db, project_id).version
        if expected is not None and int(expected) != current:
            raise ConflictError(conflict_message(current, int(expected)))
        db.execute("UPDATE projects SET version=? WHERE id=?", (current + 1, project_id))
        return current + 1

    # -- objects and prompts -------------------------------------------------------------------

    def objects(self, project_id: int) -> list[int]:
        with self._lock:
            return [r[0] for r in self._db.execute(
                "SELECT obj_id FROM objects WHERE project_id=? ORDER BY rowid", (project_id,))]

    def save_prompt(self, db: sqlite3.Connection, project_id: int, frame: int, labels: np.ndarray,
                    objects: frozenset[int]) -> None:
        """Inside a transaction: the prompt of ``frame`` (pending), and its objects registered."""
        for obj_id in sorted(objects):
            db.execute("INSERT OR IGNORE INTO objects (project_id, obj_id) VALUES (?, ?)", (project_id, obj_id))
        db.execute("INSERT OR REPLACE INTO prompts (project_id, frame, labels, objects, pending) VALUES (?,?,?,?,1)",
                   (project_id, frame, encode_png(labels), json.dumps(sorted(objects))))

    def push_undo(self, db: sqlite3.Connection, project_id: int, frame: int, before: StoredPrompt | None) -> None:
        """Inside an edit's transaction: what ``frame``'s prompt was before it (None: it had none)."""
        labels, objects, pending = ((None, None, 0) if before is None else
                                    (encode_png(before.labels), json.dumps(sorted(before.objects)), before.pending))
        db.execute("INSERT INTO undo (project_id, frame, labels, objects, pending) VALUES (?,?,?,?,?)",
                   (project_id, frame, labels, objects, int(pending)))
        db.execute("DELETE FROM undo WHERE project_id=? AND seq NOT IN (SELECT seq FROM undo WHERE project_id=? "
                   "ORDER BY seq DESC LIMIT ?)", (project_id, project_id, UNDO_DEPTH))

    def pop_undo(self, db: sqlite3.Connection, project_id: int) -> tuple[int, StoredPrompt | None]:
        """Inside a transaction: the last edit's frame and the prompt it had before; InputError if none."""
        row = db.execute("SELECT seq, frame, labels, objects, pending FROM undo WHERE project_id=? "
                         "ORDER BY seq DESC LIMIT 1", (project_id,)).fetchone()
        if row is None:
            raise InputError("nothing to undo: no click or box since the project was opened or an object deleted")
        seq, frame, labels, objects, pending = row
        db.execute("DELETE FROM undo WHERE seq=?", (seq,))
        if labels is None:
            return frame, None
        return frame, StoredPrompt(frame, decode_png(labels), frozenset(json.loads(objects)), bool(pending))

    def can_undo(self, project_id: int) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM undo WHERE project_id=? LIMIT 1", (project_id,)).fetchone() is not None

    def put_prompt(self, db: sqlite3.Connection, project_id: int, frame: int, prompt: StoredPrompt | None) -> None:
        """Inside a transaction: ``frame``'s prompt replaced as a whole (None removes it)."""
        if prompt is None:
            db.execute("DELETE FROM prompts WHERE project_id=? AND frame=?", (project_id, frame))
            return
        self.save_prompt(db, project_id, frame, prompt.labels, prompt.objects)
        if not prompt.pending:
            db.execute("UPDATE prompts SET pending=0 WHERE project_id=? AND frame=?", (project_id, frame))

    def delete_prompts(self, db: sqlite3.Connection, project_id: int) -> None:
        db.execute("DELETE FROM prompts WHERE project_id=?", (project_id,))

    def delete_object(self, db: sqlite3.Connection, project_id: int, obj_id: int) -> None:
        """Inside a transaction: the object's row and name, and the undo history (it may name the object)."""
        db.execute("DELETE FROM objects WHERE project_id=? AND obj_id=?", (project_id, obj_id))
        db.execute("DELETE FROM object_names WHERE project_id=? AND obj_id=?", (project_id, obj_id))
        db.execute("DELETE FROM undo WHERE project_id=?", (project_id,))

    def object_names(self, project_id: int) -> dict[int, str]:
        with self._lock:
            return dict(self._db.execute("SELECT obj_id, name FROM object_names WHERE project_id=?", (project_id,)))

    def rename_object(self, project_id: int, obj_id: int, name: str) -> None:
        with self.transaction() as db:
            self._project(db, project_id)
            db.execute("INSERT OR REPLACE INTO object_names (project_id, obj_id, name) VALUES (?,?,?)",
                       (project_id, obj_id, check_name(name)))
            db.execute("UPDATE projects SET version=version+1 WHERE id=?", (project_id,))

    def prompts(self, project_id: int) -> list[StoredPrompt]:
        with self._lock:
            rows = list(self._db.execute(
                "SELECT frame, labels, objects, pending FROM prompts WHERE project_id=? ORDER BY frame", (project_id,)))
        return [StoredPrompt(f, decode_png(blob), frozenset(json.loads(objs)), bool(p)) for f, blob, objs, p in rows]

    # -- jobs ----------------------------------------------------------------------------------

    def job(self, project_id: int) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT state, passes, pass_index, last_frame, done, total, message FROM jobs "
                                   "WHERE project_id=?", (project_id,)).fetchone()
        if row is None:
            return None
        state, passes, pass_index, last_frame, done, total, message = row
        return Job(state, tuple(Pass(int(s), bool(r)) for s, r in json.loads(passes)), pass_index, last_frame,
                   done, total, message)

    def start_job(self, db: sqlite3.Connection, project_id: int, job: Job) -> None:
        db.execute("INSERT OR REPLACE INTO jobs (project_id, state, passes, pass_index, last_frame, done, total, "
                   "message, updated) VALUES (?,?,?,?,?,?,?,?,?)",
                   (project_id, job.state, json.dumps([[p.start, p.reverse] for p in job.passes]), job.pass_index,
                    job.last_frame, job.done, job.total, job.message, time.time()))

    def frame_done(self, project_id: int, pass_index: int, frame: int) -> None:
        """One transaction per segmented frame (its mask file already written): progress and pending."""
        with self.transaction() as db:
            db.execute("UPDATE jobs SET pass_index=?, last_frame=?, done=done+1, updated=? WHERE project_id=?",
                       (pass_index, frame, time.time(), project_id))
            db.execute("UPDATE prompts SET pending=0 WHERE project_id=? AND frame=?", (project_id, frame))

    def next_pass(self, project_id: int, pass_index: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE jobs SET pass_index=?, last_frame=NULL, updated=? WHERE project_id=?",
                       (pass_index, time.time(), project_id))

    def finish_job(self, project_id: int, state: str, message: str = "") -> None:
        with self.transaction() as db:
            db.execute("UPDATE jobs SET state=?, message=?, updated=? WHERE project_id=?",
                       (state, message, time.time(), project_id))

    # -- computed masks ------------------------------------------------------------------------

    def computed_frames(self, project_id: int) -> list[int]:
        """Frames with a mask file (hidden temporary files of an interrupted write are ignored)."""
        folder = self.project_dir(project_id) / "masks"
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("[0-9]*.png") if p.stem.isdigit())


def check_name(name: str) -> str:
    """A project's or object's name as shown: one line, 1..120 characters."""
    name = " ".join(str(name).split())
    if not 1 <= len(name) <= 120:
        raise InputError("a name must have 1 to 120 characters (not only spaces)")
    return name


def conflict_message(current: int, expected: int) -> str:
    return (f"this project was changed in another tab or window (version {current}, this page has {expected}); "
            "reload the page to see the changes, then try again")


def encode_png(labels: np.ndarray) -> bytes:
    """(H, W) uint8 label map -> index PNG bytes (lossless, small)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(labels, np.uint8)).save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.array(image, dtype=np.uint8)
