"""Start or join the Ray cluster that ``vidseg batch`` runs on, and make sure a local one dies with us.

Without an address a local cluster of ``workers`` CPUs is started as this process's children;
``ray.shutdown()`` stops it when the run ends, on Ctrl-C and on SIGTERM (turned into the same
KeyboardInterrupt). SIGKILL cannot be caught: then Ray's fate sharing stops the GCS server, the
raylet and the workers (the kernel kills them with their parent, ``PR_SET_PDEATHSIG``), and the
watcher of :mod:`vidseg.apps.ray_reaper` ends the agent processes that would outlive them. With an
address the cluster is someone else's: only our job ends with us (Ray cancels a dead driver's tasks).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

from vidseg.apps.interrupts import Terminated
from vidseg.errors import InputError

LOCAL_OBJECT_STORE_BYTES = 128 * 1024**2  # tasks pass paths and small results, never frames


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise InputError("vidseg batch runs on Ray, which is not installed: "
                         "pip install 'vidseg[ray]' (or pip install ray)") from None
    return ray


@contextlib.contextmanager
def ray_cluster(address: str | None, workers: int | None) -> Iterator[ModuleType]:
    """Yield the ``ray`` module connected to a cluster: a new local one with ``workers`` CPUs, or the
    one at ``address``. The local cluster is stopped on leaving, however the block ends."""
    ray = import_ray()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report: nothing outside may be reached
    quiet = dict(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    with contextlib.ExitStack() as stack:
        if address is None:
            stack.enter_context(_reaped_on_exit())
        try:
            if address is None:
                # "local": a new cluster even when this machine runs another (ray start) or RAY_ADDRESS is set
                ray.init(address="local", num_cpus=workers, object_store_memory=LOCAL_OBJECT_STORE_BYTES, **quiet)
            else:
                ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as error:
            ray.shutdown()
            where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
            raise InputError(f"cannot start or join {where}: {' '.join(str(error).split())}") from None
        stack.callback(ray.shutdown)
        previous = signal.signal(signal.SIGTERM, _interrupt)
        stack.callback(signal.signal, signal.SIGTERM, previous)
        yield ray


@contextlib.contextmanager
def _reaped_on_exit() -> Iterator[None]:
    """Have a watcher note the processes started beneath this one in the block and end any of them
    still running once the block ends or this process dies (see ray_reaper)."""
    watcher = subprocess.Popen([sys.executable, "-m", "vidseg.apps.ray_reaper", str(os.getpid())],
                               stdin=subprocess.PIPE, start_new_session=True)
    try:
        yield
    finally:
        watcher.stdin.close()  # the watcher's cue; SIGKILL of this process closes it the same way
        try:
            watcher.wait(timeout=15)  # so that nothing of the cluster is left when the command returns
        except subprocess.TimeoutExpired:
            pass


def cluster_cpus(ray: ModuleType) -> int:
    """The CPUs of the cluster ``ray`` is connected to (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM ends the run like Ctrl-C (the ``finally`` above stops the cluster), and exits 143 as
    # every command does for SIGTERM.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated
