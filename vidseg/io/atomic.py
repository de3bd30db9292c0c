"""Atomic file writes: write to a temporary file beside the target, then rename over it.

A reader never sees a half-written file, and an interrupted run leaves either the old file or
the new one, plus at most a hidden temporary file ``.{stem}.{pid}.XXXXXXXX.tmp{suffix}``. A run
killed too hard to clean up (SIGKILL) leaves that file behind; the first write of a later process
into the same folder sweeps it (see :func:`sweep_stale_temps` for which ones are safe to remove).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

# A temporary file is swept only when it is older than this AND its writer is not running here.
STALE_AFTER_S = 5 * 60

# Our exact naming: "." stem "." [pid "."] 8 mkstemp characters ".tmp" [target suffix]. Names
# without a pid were written by vidseg before the pid was added; the stem is matched lazily so a
# pid is read whenever one can be (reading a stem's digits as a pid only makes the sweep keep more).
_TEMP_NAME = re.compile(r"^\..*?\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{8}\.tmp(?:\.[A-Za-z0-9]+)?$")

_swept: set[str] = set()
_swept_lock = threading.Lock()


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    ``suffix`` defaults to the target's suffix, so libraries that pick a format by extension
    (PIL, PyAV) still see the right one. On an exception the temporary file is removed.
    """
    target = Path(target)
    tmp = temp_beside(target, suffix)
    try:
        yield tmp
        _publish(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_paths(targets: Sequence[str | os.PathLike]) -> Iterator[list[Path]]:
    """Several outputs, all or none: yield one temporary path per target; when the block ends
    normally every temporary file becomes its target, and if one of them cannot, the targets
    already replaced get their old content back (or are removed if they were new), so the
    folder is as it was. On an exception in the block no target is touched."""
    targets = [Path(t) for t in targets]
    temps: list[Path] = []
    try:
        for target in targets:
            temps.append(temp_beside(target))
        yield temps
        _publish_all(temps, targets)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


def temp_beside(target: Path, suffix: str | None = None) -> Path:
    """A new empty hidden temporary file in ``target``'s folder (created if missing), named after
    ``target`` and this process, after sweeping the folder's stale ones once per process."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_once(target.parent)
    suffix = target.suffix if suffix is None else suffix
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.{os.getpid()}.", suffix=f".tmp{suffix}", dir=target.parent)
    os.close(fd)
    return Path(name)


def _publish(tmp: Path, target: Path) -> None:
    # mkstemp makes the file owner-only; outputs get the permissions a plain open() would give.
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, target)


def _publish_all(temps: list[Path], targets: list[Path]) -> None:
    """Rename each temporary file onto its target; on a failure undo the renames done so far.

    The old content of each target is kept as a hard link (a copy where links are not possible)
    under a temporary name until every rename has succeeded, so the undo can put it back."""
    backups: list[Path | None] = []
    done = 0
    try:
        for tmp, target in zip(temps, targets):
            backups.append(_keep_old(target))
            _publish(tmp, target)
            done += 1
    except BaseException:
        for target, backup in zip(targets[:done], backups):
            with contextlib.suppress(OSError):  # undo every one that can be undone
                if backup is None:
                    target.unlink(missing_ok=True)
                else:
                    os.replace(backup, target)
        raise
    finally:
        for backup in backups:
            if backup is not None:
                backup.unlink(missing_ok=True)


def _keep_old(target: Path) -> Path | None:
    """A temporary second name for ``target``'s current content, or None when it has none."""
    if not target.is_file():
        return None
    backup = temp_beside(target)
    backup.unlink()
    try:
        os.link(target, backup)
    except OSError:  # a filesystem without hard links
        shutil.copy2(target, backup)
    return backup


def sweep_once(folder: Path) -> None:
    """Sweep ``folder``'s stale temporary files the first time this process writes into it (a
    folder of masks gets one write per frame: listing it on each would cost quadratic time)."""
    key = os.path.abspath(folder)
    with _swept_lock:
        if key in _swept:
            return
        _swept.add(key)
    sweep_stale_temps(folder)


def sweep_stale_temps(folder: Path, now: float | None = None) -> list[Path]:
    """Remove the temporary files of our naming in ``folder`` that no running write can own;
    returns them.

    The rule: a file goes only when it is older than STALE_AFTER_S (by its modification time)
    AND the process named in it is not running on this machine (for names without a pid, age
    alone). Either test alone could delete a live run's file: age alone, that of a run paused
    with Ctrl-Z or waiting on a stalled camera; the pid alone, that of a run on another machine
    writing into the same shared folder (its pid means nothing here). A live writer touches its
    file as it goes, so "old and ownerless" is safe; the price is that a killed run's leftover
    waits a few minutes for the next sweep.
    """
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER_S:
                continue
            if match["pid"] is not None and _running(int(match["pid"])):
                continue
            os.unlink(entry.path)
        except OSError:  # gone already (another sweep), or not ours to remove
            continue
        removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process; keep its files (overflow: not a pid we can judge)
    return True


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


def write_bytes_atomic(target: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    write_bytes_atomic(target, text.encode("utf-8"))


class CommitOnExit:
    """The writers' context-manager protocol: a block that ends normally commits the output
    (``close``); one that raises discards what is pending (``abort``), so nothing half-written stays."""

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
