import threading
import time

import pytest

from vidseg.io.stages import WorkerThread, prefetch


def _threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


def test_prefetch_gives_the_same_items_in_order():
    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))
    assert not _threads("vidseg-reader")


def test_prefetch_raises_the_readers_error_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in prefetch(items()):
            got.append(item)
    assert got == [1, 2]


def test_prefetch_closed_early_stops_its_thread():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    frames = prefetch(items(), depth=1)
    assert next(frames) == 0
    frames.close()
    assert not _threads("vidseg-reader")
    assert len(produced) <= 4  # stopped, not run to the end


def test_worker_handles_items_in_order_and_close_waits_for_all():
    done = []

    def handle(item):
        time.sleep(0.001)
        done.append(item)

    with WorkerThread(handle, depth=1) as worker:
        for i in range(20):
            worker.submit(i)
    assert done == list(range(20))
    assert not _threads("vidseg-writer")


def test_worker_error_is_raised_in_the_caller():
    def handle(item):
        if item == 3:
            raise ValueError("bad item 3")

    worker = WorkerThread(handle, depth=1)
    with pytest.raises(ValueError, match="bad item 3"):
        for i in range(100):
            worker.submit(i)
        worker.close()
    assert not _threads("vidseg-writer")


def test_an_exception_in_the_caller_finishes_what_was_submitted_and_goes_on():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with WorkerThread(done.append, depth=4) as worker:
            worker.submit("a")
            worker.submit("b")
            raise KeyboardInterrupt
    assert done == ["a", "b"]


def test_abort_drops_pending_items():
    gate = threading.Event()
    done = []

    def handle(item):
        gate.wait(2.0)
        done.append(item)

    worker = WorkerThread(handle, depth=4)
    for i in range(4):
        worker.submit(i)
    threading.Timer(0.1, gate.set).start()
    worker.abort()  # the item in hand finishes; the waiting ones are dropped
    assert len(done) <= 1
    with pytest.raises(RuntimeError, match="stopped"):
        worker.submit(9)


def test_depth_must_be_positive():
    with pytest.raises(ValueError):
        WorkerThread(print, depth=0)
    with pytest.raises(ValueError):
        list(prefetch([1], depth=0))
