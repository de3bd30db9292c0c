import signal

import pytest

from vidseg.apps import ray_cluster
from vidseg.apps.cli import EXIT_TERMINATED, _run
from vidseg.apps.interrupts import Terminated


def test_sigterm_while_ray_runs_is_a_termination_not_a_ctrl_c(capsys):
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(Terminated):
            ray_cluster._interrupt(signal.SIGTERM, None)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN  # a second SIGTERM lets the cleanup finish
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_cli_exits_143_for_it(capsys):
    class Args:
        nproc = 1

        @staticmethod
        def run(args):
            ray_cluster._interrupt(signal.SIGTERM, None)

    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert _run(Args(), []) == EXIT_TERMINATED == 143
    finally:
        signal.signal(signal.SIGTERM, previous)
