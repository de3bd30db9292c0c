"""Ends what is left of a local Ray cluster once the ``vidseg batch`` driver that started it is gone.

Ray's own fate sharing stops the GCS server, the raylet and the workers when the driver dies,
even by SIGKILL, but its agent processes (``ray::DashboardAgent``, ``ray::RuntimeEnvAgent``)
outlive the raylet (seen with Ray 2.60), orphaned. So the driver starts this watcher in a session
of its own, holding the write end of its stdin. While the driver lives, the watcher notes every
process beneath it (pid and start time, twice a second); when the read returns end-of-file (the
driver closed the pipe, exited or was killed) it ends those still running: SIGTERM, then SIGKILL
after a grace period. Linux only (/proc). Identifying the processes by their environment does
not work: Ray's process titles overwrite it.

    python -m vidseg.apps.ray_reaper DRIVER_PID
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from pathlib import Path

POLL_SECONDS = 0.5
GRACE_SECONDS = 3.0  # after SIGTERM, before SIGKILL


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, start time in clock ticks) of every process we can see."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid ... starttime (22nd)
        table[int(entry.name)] = (int(fields[1]), int(fields[19]))
    return table


def descendants(root: int) -> dict[int, int]:
    """pid -> start time of every process beneath ``root`` now."""
    table = process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found[pid] = table[pid][1]
        todo.extend(children.get(pid, []))
    return found


def still_running(noted: dict[int, int]) -> list[int]:
    """The noted processes that still run (same pid and start time, so not a reused pid)."""
    table = process_table()
    return [pid for pid, start in noted.items() if pid in table and table[pid][1] == start]


def reap(noted: dict[int, int]) -> int:
    """SIGTERM the noted processes still running, SIGKILL those left after the grace; how many were left."""
    pids = still_running(noted)
    _signal(pids, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while pids and time.monotonic() < deadline:
        time.sleep(0.1)
        pids = still_running(noted)
    _signal(pids, signal.SIGKILL)
    return len(pids)


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def watch(driver: int, pipe: int) -> dict[int, int]:
    """Note the driver's descendants until ``pipe`` reaches end-of-file; returns them."""
    noted: dict[int, int] = {}
    while True:
        ready, _, _ = select.select([pipe], [], [], POLL_SECONDS)
        noted.update(descendants(driver))
        if ready and not os.read(pipe, 4096):
            return noted


def main(argv: list[str]) -> int:
    driver = int(argv[0])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the driver's to handle; we wait for it to exit
    noted = watch(driver, sys.stdin.fileno())
    noted.pop(os.getpid(), None)
    reap(noted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
