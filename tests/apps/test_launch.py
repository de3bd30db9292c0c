"""vidseg train ... --nproc N: the same command again under torchrun, less its --nproc."""

from __future__ import annotations

from tests.apps.cli_checks import run_command
from vidseg.apps import launch
from vidseg.apps.launch import without_nproc
from vidseg.data import ClipConfig, render_clip, write_clip


def test_nproc_is_left_out_of_the_relaunched_command():
    assert without_nproc(["train", "vos", "--nproc", "2", "--steps", "5"]) == ["train", "vos", "--steps", "5"]
    assert without_nproc(["train", "vos", "--nproc=2"]) == ["train", "vos"]


def test_train_with_nproc_relaunches_the_same_command(capsys, monkeypatch, tmp_path):
    calls = []
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.setattr(launch, "launch", lambda argv, nproc: calls.append((argv, nproc)) or 0)
    write_clip(render_clip(ClipConfig(height=48, width=64, num_frames=2, num_objects=1, seed=1)), tmp_path, "clip")
    argv = ["train", "interactive", "--data", str(tmp_path), "--sequences", "clip", "--nproc", "2", "--steps", "5"]
    code, _, _ = run_command(capsys, argv)
    assert code == 0 and calls == [(argv, 2)]
