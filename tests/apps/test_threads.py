import os

import cv2
import pytest
import torch

from vidseg.apps.threads import cpu_threads, default_threads, parse_threads
from vidseg.errors import InputError


def test_threads_apply_inside_the_block_and_come_back():
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
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (0.1, 0.2, 0.3))
    assert default_threads() == 2
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.2, 1.0, 0.8))
    assert default_threads() == 1


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5", str((os.cpu_count() or 1) + 1)])
def test_a_count_outside_the_cores_is_a_one_line_error(text):
    with pytest.raises(InputError, match="--threads"):
        parse_threads(text)


def test_a_count_within_the_cores_is_taken():
    assert parse_threads("1") == 1 and parse_threads(None) is None
