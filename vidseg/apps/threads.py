"""How many CPU threads a command computes with: torch's intra-op pool and OpenCV's.

On a 2-core machine the count matters more than it looks: threads that wait for a core another
process holds spin instead of sleeping, so two threads beside one busy neighbour can be several
times slower than one thread (see ``benchmarks/threads.py``).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from vidseg.errors import InputError


# Measured by benchmarks/threads.py (car-turn, the EfficientNet-Lite0 network, 2 cores): two
# threads give 20.3 FPS idle but 8.4 beside one busy process and 2.6 beside two; one thread gives
# 13.7, 13.6 and 9.4. So two threads only when the machine is idle when the run starts.
IDLE_LOAD = 0.5  # cores busy (other processes) below which the machine counts as idle
SAMPLE_SECONDS = 0.1  # how long the CPU's busy time is sampled


def default_threads() -> int:
    """The compute threads for a run that was not told: every core on an idle machine, else one.

    Idle is judged by the cores busy right now (/proc/stat over ``SAMPLE_SECONDS``), not by the
    1-minute load average: that one lags, so a run started just after another (a script that
    segments clips one after the other, a benchmark) would find the machine "busy" with work that has
    already ended, and compute at half speed. Where /proc/stat is missing, the load average decides."""
    cores = os.cpu_count() or 1
    busy = busy_cores(SAMPLE_SECONDS)
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except OSError:  # no load average on this system either
            return 1
    return cores if busy < IDLE_LOAD else 1


def busy_cores(seconds: float) -> float | None:
    """How many cores other processes kept busy over the next ``seconds`` (this process's own
    threads, a decoder started before, do not count); None without /proc/stat."""
    before = _cpu_times()
    if before is None:  # not Linux: no /proc (and no clock ticks to count in)
        return None
    own_before = _own_ticks()
    time.sleep(seconds)
    after, own_after = _cpu_times(), _own_ticks()
    if after is None:
        return None
    total = sum(after) - sum(before)
    idle = (after[3] + after[4]) - (before[3] + before[4])  # idle and iowait
    busy = total - idle - (own_after - own_before)
    return max(0.0, (os.cpu_count() or 1) * busy / total) if total > 0 else 0.0


def _cpu_times() -> list[int] | None:
    """The machine's CPU time by kind (user nice system idle iowait irq softirq steal), in ticks."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return [int(v) for v in fields[1:9]]  # guest time is already inside user time
    except (OSError, ValueError, IndexError):
        return None


def _own_ticks() -> float:
    """This process's CPU time (user + system, all threads), in the ticks of /proc/stat."""
    return time.process_time() * os.sysconf("SC_CLK_TCK")


def parse_threads(text: str | int | None) -> int | None:
    """``--threads`` -> a whole number from 1 to the machine's cores (None when not given)."""
    if text is None:
        return None
    cores = os.cpu_count() or 1
    try:
        count = int(str(text))
    except ValueError:
        count = 0
    if not 1 <= count <= cores:
        raise InputError(f"--threads is {text!r}; give a whole number from 1 to {cores} (this machine's cores)")
    return count


@contextlib.contextmanager
def cpu_threads(count: int | None) -> Iterator[None]:
    """Compute with ``count`` threads inside the block (None: :func:`default_threads`); the
    previous counts come back after it."""
    if count is None:
        count = default_threads()
    import cv2
    import torch

    previous = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(count)
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous[0])
        cv2.setNumThreads(previous[1])
