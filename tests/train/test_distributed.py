"""Data-parallel training: each rank's share of the global batch, the --nproc launch, and a short
run on 2 CPU processes whose loss curve matches one process's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.apps.cli_checks import assert_user_error, run_command
from vidseg.data import ClipConfig, render_clip, write_clip
from vidseg.errors import InputError
from vidseg.train import distributed
from vidseg.train.distributed import Ranks, step_indices

SCRIPT = Path(__file__).with_name("ddp_tiny_run.py")
ROOT = Path(__file__).resolve().parents[2]


def test_ranks_split_each_step_into_disjoint_shares_of_the_single_process_batch():
    single = step_indices(3, 6, 8, Ranks())
    shares = [step_indices(3, 6, 8, Ranks(rank, 4)) for rank in range(4)]
    assert single == list(range(24, 48))
    assert shares[1][:4] == [26, 27, 34, 35]  # step 3 then step 4, two samples each
    for step in range(3):  # together, each step is exactly the single process's batch
        assert sorted(i for share in shares for i in share[2 * step: 2 * step + 2]) == single[8 * step: 8 * step + 8]
    with pytest.raises(InputError, match="multiple of 3"):
        step_indices(0, 2, 8, Ranks(0, 3))


class _FakeGroup:
    """Stands in for torch.distributed's group calls and records them in order."""

    def __init__(self, monkeypatch) -> None:
        self.calls: list[str] = []
        for name in ("init_process_group", "barrier", "destroy_process_group"):
            monkeypatch.setattr(distributed.dist, name, lambda *args, _name=name, **kwargs: self.calls.append(_name))
        monkeypatch.setattr(distributed.dist, "is_initialized", self.joined)
        monkeypatch.setattr(distributed.dist, "get_rank", lambda: 1)
        monkeypatch.setattr(distributed.dist, "get_world_size", lambda: 2)
        monkeypatch.setenv("LOCAL_RANK", "1")
        monkeypatch.setenv("WORLD_SIZE", "2")

    def joined(self) -> bool:
        return bool(self.calls) and self.calls[-1] != "destroy_process_group"


def test_ranks_wait_for_each_other_before_leaving_the_group(monkeypatch):
    group = _FakeGroup(monkeypatch)
    with distributed.process_group() as where:
        assert where == Ranks(1, 2)
    # A rank that left first, with the group still held, aborted at exit now and then.
    assert group.calls == ["init_process_group", "barrier", "destroy_process_group"]


def test_a_failing_rank_leaves_the_group_without_waiting(monkeypatch):
    group = _FakeGroup(monkeypatch)
    with pytest.raises(InputError):
        with distributed.process_group():
            raise InputError("bad data")
    assert group.calls == ["init_process_group", "destroy_process_group"]  # a barrier would hang


def test_nproc_zero_is_a_one_line_error(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    code, _, err = run_command(capsys, ["train", "vos", "--data", tmp_path, "--nproc", "0"])
    assert_user_error(code, err, "--nproc")


def test_two_processes_follow_the_loss_curve_of_one(tmp_path):
    for k in range(2):
        clip = render_clip(ClipConfig(height=96, width=128, num_frames=6, num_objects=1, seed=10 + k))
        write_clip(clip, tmp_path / "data", name=f"s{k}")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    one, two = tmp_path / "one" / "net.pt", tmp_path / "two" / "net.pt"
    subprocess.run([sys.executable, SCRIPT, tmp_path / "data", one], env=env, check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                             SCRIPT, tmp_path / "data", two], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    curves = [np.array([json.loads(line)["loss"] for line in path.with_name("net.pt.log.jsonl").read_text().splitlines()])
              for path in (one, two)]
    # Rank 0 alone logged, once per step; the ranks' replicas stayed identical (DDP synchronised them).
    assert len(curves[1]) == 12 and two.exists()
    checksums = [json.loads(two.with_name(f"net.pt.rank{r}.json").read_text())["checksum"] for r in (0, 1)]
    assert checksums[0] == checksums[1]
    # Same samples per step, BatchNorm over 2 instead of 4 samples: the curves agree within a few percent,
    # while training itself moves the loss by far more (about 40% over these 12 steps).
    relative = np.abs(curves[1] - curves[0]) / curves[0]
    assert relative.mean() < 0.05 and relative.max() < 0.15, relative
    assert curves[0][-3:].mean() < 0.8 * curves[0][:3].mean()
