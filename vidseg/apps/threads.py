"""How many CPU threads a command computes with: torch's intra-op pool and OpenCV's.

On a 2-core machine the count matters more than it looks: threads that wait for a core another
process holds spin instead of sleeping, so two threads beside one busy neighbour can be several
times slower than one thread (see ``benchmarks/threads.py``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from vidseg.errors import InputError


# Measured by benchmarks/threads.py (car-turn, the EfficientNet-Lite0 network, 2 cores): two
# threads give 20.3 FPS idle but 8.4 beside one busy process and 2.6 beside two; one thread gives
# 13.7, 13.6 and 9.4. So two threads only when the machine is idle when the run starts.
IDLE_LOAD = 0.5  # 1-minute load average below which the machine counts as idle


def default_threads() -> int:
    """The compute threads for a run that was not told: every core on an idle machine, else one."""
    cores = os.cpu_count() or 1
    try:
        idle = os.getloadavg()[0] < IDLE_LOAD
    except OSError:  # no load average on this system
        idle = False
    return cores if idle else 1


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
