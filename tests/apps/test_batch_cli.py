"""``vidseg batch`` end to end on a local Ray cluster: a failure is isolated, a run killed with
SIGKILL resumes to the bytes of an uninterrupted one, and no process of a run outlives it.

Ray takes seconds to start, so the Ray tests share two runs (killed, then resumed); the errors a
user can make are checked before Ray starts, in-process.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
import torch

from tests.apps.batch_fixtures import folder_bytes, write_batch_inputs
from tests.apps.cli_checks import assert_user_error, run_command
from vidseg.apps.batch import ROOT_MARK
from vidseg.apps.batch_manifest import read_manifest
from vidseg.apps.batch_video import MARKER, BatchOptions, segment_video

RUN_TIMEOUT = 300


def vidseg_batch(*args) -> subprocess.Popen:
    """``vidseg batch ...`` as a separate process in a session of its own (so its processes can be found)."""
    command = [sys.executable, "-m", "vidseg.apps.cli", "batch", *map(str, args), "--quiet"]
    return subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def leftovers(session: int) -> list[str]:
    """Live processes of the session ``session`` and watchers of its driver: 'pid name' each."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        state, sid = fields[0], int(fields[3])
        watcher = f"vidseg.apps.ray_reaper {session}" in cmdline
        if state != "Z" and (sid == session or watcher):
            found.append(f"{entry.name} {stat[stat.index('(') + 1:stat.rindex(')')]}")
    return found


def wait_for_no_leftovers(session: int, seconds: float = 30.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := leftovers(session)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    return write_batch_inputs(tmp_path_factory.mktemp("batch_inputs"))


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory) -> Path:
    """Each video segmented without Ray, one by one, as a worker does it: what every run must write."""
    threads, cv_threads = torch.get_num_threads(), cv2.getNumThreads()
    root = tmp_path_factory.mktemp("reference")
    for item in read_manifest(inputs):
        segment_video(item, root, BatchOptions())
    torch.set_num_threads(threads)
    cv2.setNumThreads(cv_threads)
    return root


@pytest.fixture(scope="module")
def killed_then_resumed(inputs, tmp_path_factory):
    """Run 1 (one worker) is SIGKILLed once the first video is finished; run 2 (two workers) resumes."""
    pytest.importorskip("ray")
    out = tmp_path_factory.mktemp("batch") / "out"
    first = vidseg_batch(inputs, "-o", out, "--workers", 1)
    deadline = time.monotonic() + RUN_TIMEOUT
    while not (out / "folder" / MARKER).exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, f"the run ended before it could be killed: {first.communicate()[1]}"
    first.send_signal(signal.SIGKILL)
    first.communicate()
    left_after_kill = wait_for_no_leftovers(first.pid)
    second = vidseg_batch(inputs, "-o", out, "--workers", 2)
    _, err = second.communicate(timeout=RUN_TIMEOUT)
    return {"out": out, "code": second.returncode, "err": err, "left_after_kill": left_after_kill,
            "left_after_run": wait_for_no_leftovers(second.pid), "killed_pid": first.pid}


def test_a_corrupt_video_fails_alone_with_its_reason(killed_then_resumed):
    run = killed_then_resumed
    summary = json.loads((run["out"] / "summary.json").read_text())
    assert summary["ok"] == ["folder", "video"]
    assert list(summary["failed"]) == ["corrupt"] and "corrupt.mp4" in summary["failed"]["corrupt"]
    assert run["code"] == 1 and "2 ok (1 finished before), 1 failed" in run["err"]
    assert not (run["out"] / "corrupt").exists()


def test_a_killed_run_resumes_to_the_bytes_of_an_uninterrupted_one(killed_then_resumed, reference):
    out = killed_then_resumed["out"]
    for video in ("folder", "video"):
        written = folder_bytes(out / video)
        assert written == folder_bytes(reference / video), video
        assert len(written) == 13  # 12 frames and the marker
    # No temporary file left, but for one the killed run may have been writing when SIGKILL came
    # (its summary, written as the first video finished): by design (vidseg/io/atomic.py) a killed
    # writer's file is swept only once it is STALE_AFTER_S old, so the resumed run keeps it.
    killed = f".{killed_then_resumed['killed_pid']}."
    assert [p.name for p in out.rglob("*.tmp*") if killed not in p.name] == []


def test_no_process_outlives_a_run_even_one_killed(killed_then_resumed):
    assert killed_then_resumed["left_after_kill"] == []
    assert killed_then_resumed["left_after_run"] == []


def test_a_finished_batch_reruns_without_starting_ray(killed_then_resumed, capsys, monkeypatch, inputs):
    import vidseg.apps.ray_cluster as cluster

    monkeypatch.setattr(cluster, "ray_cluster", lambda *a: pytest.fail("Ray started for a finished batch"))
    before = folder_bytes(killed_then_resumed["out"] / "folder")
    # The corrupt video is redone (it fails again): drop it from a copy of the manifest.
    manifest = inputs.with_name("finished.jsonl")
    manifest.write_text("".join(line + "\n" for line in inputs.read_text().splitlines() if "corrupt" not in line))
    code, _, err = run_command(capsys, ["batch", manifest, "-o", killed_then_resumed["out"], "--quiet"])
    assert code == 0 and "2 ok (2 finished before), 0 failed" in err
    assert folder_bytes(killed_then_resumed["out"] / "folder") == before


def test_a_bad_manifest_line_is_one_error_before_anything_starts(capsys, tmp_path, inputs):
    manifest = inputs.with_name("m.jsonl")  # beside the inputs: its paths are relative to its folder
    manifest.write_text(inputs.read_text() + '{"id": "x", "input": "nowhere.mp4", "mask": "m.png"}\n')
    code, _, err = run_command(capsys, ["batch", manifest, "-o", tmp_path / "out"])
    assert_user_error(code, err, "m.jsonl line 4", "nowhere.mp4")
    assert not (tmp_path / "out").exists()


def test_a_folder_of_other_files_is_refused(capsys, tmp_path, inputs):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    code, _, err = run_command(capsys, ["batch", inputs, "-o", tmp_path / "out"])
    assert_user_error(code, err, "did not write")
    assert not (tmp_path / "out" / ROOT_MARK).exists()


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_runs(capsys, tmp_path, inputs):
    import fcntl

    code, _, _ = run_command(capsys, ["batch", inputs, "-o", tmp_path / "out", "--workers", 0])
    assert code == 2 and not (tmp_path / "out").exists()  # nothing made for a refused command
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ROOT_MARK).write_text("an earlier batch")
    with open(tmp_path / "out" / ROOT_MARK, "rb") as mark:
        fcntl.flock(mark, fcntl.LOCK_EX)  # as a running batch holds it
        code, _, err = run_command(capsys, ["batch", inputs, "-o", tmp_path / "out"])
    assert_user_error(code, err, "another vidseg batch is writing")


def test_bad_workers_and_missing_ray_are_one_line_errors(capsys, tmp_path, inputs, monkeypatch):
    code, _, err = run_command(capsys, ["batch", inputs, "-o", tmp_path / "a", "--workers", 0])
    assert_user_error(code, err, "--workers")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    code, _, err = run_command(capsys, ["batch", inputs, "-o", tmp_path / "b"])
    assert_user_error(code, err, "pip install 'vidseg[ray]'")


def _bad_model(tmp_path: Path, kind: str) -> Path:
    from vidseg.nn.checkpoint import save_checkpoint
    from vidseg.nn.polar import PolarTrackerConfig, PolarTrackerNet

    path = tmp_path / f"{kind}.pt"
    if kind == "garbage":
        path.write_bytes(b"hello world garbage" * 10)  # torch.load raises KeyError for these
    elif kind == "tracker":
        save_checkpoint(path, "tracker", PolarTrackerNet(PolarTrackerConfig()))
    return path  # "missing": not written


@pytest.mark.parametrize("case, words", [
    ("nan box", ["bad.jsonl line 2", "not a finite number"]),
    ("inf box", ["bad.jsonl line 2", "not a finite number"]),
    ("missing", ["missing.pt", "does not exist"]),
    ("garbage", ["garbage.pt", "not a vidseg checkpoint"]),
    ("tracker", ["tracker.pt", "'tracker' network", "'vos'"]),
    ("workers", ["--workers"]),
])
def test_every_option_and_manifest_line_is_checked_before_ray_starts(capsys, monkeypatch, tmp_path, inputs,
                                                                     case, words):
    import vidseg.apps.ray_cluster as cluster

    monkeypatch.setattr(cluster, "import_ray", lambda: pytest.fail("Ray imported before the refusal"))
    monkeypatch.setattr(cluster, "ray_cluster", lambda *a: pytest.fail("Ray started before the refusal"))
    manifest, options = inputs, []
    if case.endswith("box"):
        value = "NaN" if case == "nan box" else "Infinity"
        manifest = inputs.with_name("bad.jsonl")  # beside the inputs: its paths are relative to its folder
        first = inputs.read_text().splitlines()[0]
        manifest.write_text(first + "\n" + '{"id": "b", "input": "video.mp4", "box": [0, 0, %s, 5]}\n' % value)
    elif case == "workers":
        options = ["--workers", "-1"]
    else:
        options = ["--model", _bad_model(tmp_path, case)]
    code, _, err = run_command(capsys, ["batch", manifest, "-o", tmp_path / "out", *options])
    assert_user_error(code, err, *words)
    assert not (tmp_path / "out").exists()


def test_the_watcher_ends_what_a_killed_driver_left(tmp_path):
    driver = subprocess.Popen([sys.executable, "-c", (
        "import os, subprocess, sys, time\n"
        "w = subprocess.Popen([sys.executable, '-m', 'vidseg.apps.ray_reaper', str(os.getpid())],"
        " stdin=subprocess.PIPE, start_new_session=True)\n"
        "c = subprocess.Popen(['sleep', '120'], start_new_session=True)\n"  # an orphan-to-be, like Ray's agents
        "print(c.pid, flush=True)\n"
        "time.sleep(120)\n")], stdout=subprocess.PIPE, text=True)
    child = int(driver.stdout.readline())
    time.sleep(1.5)  # the watcher notes the driver's children twice a second
    driver.kill()
    driver.wait()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"
