"""Pipeline stages in threads: decode the next frame and write the last one while this one computes.

Decoding (PyAV, PIL), the person model (MediaPipe), OpenCV and x264 all release the GIL, so on a
2-core machine a reader thread and a writer thread beside the main thread's computation raise a
video job's throughput close to 2x; a single thread leaves one core idle.

Both stages keep their queues short (``depth`` items), so memory stays bounded and a slow stage
slows the others instead of piling frames up. An error in a stage is raised in the main thread,
and a main thread that stops early (error, Ctrl-C) stops the stages before it goes on.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()
_POLL_S = 0.1  # how often a blocked stage looks whether it should stop


def prefetch(items: Iterable[T], depth: int = 2, name: str = "vidseg-reader") -> Iterator[T]:
    """Iterate ``items`` in a thread, up to ``depth`` ahead of the consumer; the same items, in order.

    Closing the returned generator early (break, exception) stops the thread before returning,
    so the caller may then close what ``items`` reads from.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(box, (item, None), stop):
                    return
            _put(box, (_END, None), stop)
        except BaseException as error:  # handed to the consumer, which raises it
            _put(box, (_END, error), stop)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, error = box.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join()


class WorkerThread(Generic[T]):
    """Runs ``handle(item)`` for each submitted item, in order, in one thread.

    ``submit`` waits while ``depth`` items are pending and raises the worker's error, if it had
    one; ``close`` waits for every pending item and raises it too. ``abort`` drops what is pending.
    As a context manager it closes on leaving, also when an exception leaves it (the pending items
    are finished, then that exception goes on).
    """

    def __init__(self, handle: Callable[[T], None], depth: int = 2, name: str = "vidseg-writer") -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._handle = handle
        self._box: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T) -> None:
        self._raise_error()
        if not _put(self._box, item, self._stop, give_up=lambda: self._error is not None):
            self._raise_error()
            raise RuntimeError("the worker thread has been stopped")

    def close(self) -> None:
        if self._thread.is_alive():
            _put(self._box, _END, self._stop, give_up=lambda: self._error is not None)
            self._thread.join()
        self._raise_error()

    def abort(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> WorkerThread[T]:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
            return
        # The items already submitted are complete results (frames before a Ctrl-C or a bad
        # frame): finish them, as a single-threaded loop would have; the original error goes on.
        try:
            self.close()
        except BaseException:
            self.abort()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._box.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if item is _END:
                return
            try:
                self._handle(item)
            except BaseException as error:  # raised in the main thread by submit/close
                self._error = error
                return

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error


def _put(box: queue.Queue, item: object, stop: threading.Event,
         give_up: Callable[[], bool] = lambda: False) -> bool:
    """Put ``item``, waiting for room; False if ``stop`` was set or ``give_up()`` turned true first."""
    while not stop.is_set() and not give_up():
        try:
            box.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False
