import os

import cv2
import pytest
import torch

from vidseg.apps.threads import cpu_threads, default_threads, parse_threads
from vidseg.errors import InputError


def test_threads_apply_inside_the_block_and_come_back(monkeypatch):
    from vidseg.apps import threads

    monkeypatch.setattr(threads, "busy_cores", lambda seconds: 0.0)  # one answer for both calls below
    before = torch.get_num_threads(), cv2.getNumThreads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1 and cv2.getNumThreads() == 1
    assert (torch.get_num_threads(), cv2.getNumThreads()) == before
    with cpu_threads(None):
        assert torch.get_num_threads() == default_threads()
    assert torch.get_num_threads() == before[0]


def test_the_default_is_every_core_only_on_an_idle_machine(monkeypatch):
    from vidseg.apps import threads

    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    ticks = iter([[100, 0, 50, 1000, 0, 0, 0, 0], [110, 0, 50, 1190, 0, 0, 0, 0],  # 0.1 of 2 cores busy
                  [100, 0, 50, 1000, 0, 0, 0, 0], [180, 0, 70, 1100, 0, 0, 0, 0]])  # 1 of 2 busy
    monkeypatch.setattr(threads, "_cpu_times", lambda: next(ticks))
    monkeypatch.setattr(threads, "_own_ticks", lambda: 0)
    monkeypatch.setattr(threads.time, "sleep", lambda s: None)
    assert default_threads() == 2
    assert default_threads() == 1


def test_without_proc_stat_the_load_average_decides(monkeypatch):
    from vidseg.apps import threads

    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(threads, "_cpu_times", lambda: None)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (0.1, 0.2, 0.3))
    assert default_threads() == 2
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.2, 1.0, 0.8))
    assert default_threads() == 1


def test_a_run_right_after_a_busy_minute_still_finds_the_machine_idle(monkeypatch):
    """The load average still counts work that has ended; the busy time of now does not."""
    from vidseg.apps import threads

    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.9, 1.5, 1.0))
    monkeypatch.setattr(threads, "busy_cores", lambda seconds: 0.05)
    assert default_threads() == (os.cpu_count() or 1)


def test_busy_cores_reads_this_machine():
    busy = __import__("vidseg.apps.threads", fromlist=["x"]).busy_cores(0.05)
    if busy is None:
        pytest.skip("no /proc/stat here")
    assert 0.0 <= busy <= (os.cpu_count() or 1) + 1e-6


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5", str((os.cpu_count() or 1) + 1)])
def test_a_count_outside_the_cores_is_a_one_line_error(text):
    with pytest.raises(InputError, match="--threads"):
        parse_threads(text)


def test_a_count_within_the_cores_is_taken():
    assert parse_threads("1") == 1 and parse_threads(None) is None


def test_this_process_own_work_does_not_count_as_a_neighbour(monkeypatch):
    from vidseg.apps import threads

    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    ticks = iter([[100, 0, 50, 1000, 0, 0, 0, 0], [190, 0, 60, 1100, 0, 0, 0, 0]])  # 1 of 2 cores busy...
    own = iter([500, 595])  # ... all of it this process's (a decoder thread started before)
    monkeypatch.setattr(threads, "_cpu_times", lambda: next(ticks))
    monkeypatch.setattr(threads, "_own_ticks", lambda: next(own))
    monkeypatch.setattr(threads.time, "sleep", lambda s: None)
    assert threads.busy_cores(0.1) == pytest.approx(0.05)
