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
    """Compute with ``count`` threads inside the block (None: leave the libraries' own choice);
    the previous counts come back after it."""
    if count is None:
        yield
        return
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
