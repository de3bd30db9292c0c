"""``vidseg live`` on files played in real time (no camera exists here): it keeps up by dropping
frames and counting them, stops cleanly at the end, on Ctrl-C and on a stall, and refuses a camera
that does not exist."""

from __future__ import annotations

import json
import threading
import time

import av
import numpy as np
import pytest

from tests.portrait_fakes import RedPersonModel, person_frames
from vidseg.apps import live
from vidseg.apps.cli import EXIT_USER_ERROR, main
from vidseg.apps.live import Captured, LiveJob, LiveSource, run_live
from vidseg.engine.portrait.backgrounds import BackgroundSpec
from vidseg.errors import InputError
from vidseg.io.writers import write_video

H, W, FPS = 48, 64, 24


@pytest.fixture
def clip(tmp_path):
    """12 frames at 24 fps: half a second when played live."""
    return write_video(tmp_path / "clip.mp4", person_frames(12, H, W), fps=FPS)


@pytest.fixture
def fake_model(monkeypatch):
    monkeypatch.setattr(live, "load_person_model", lambda name="landscape": RedPersonModel())


def green(**kwargs):
    return LiveJob(background=BackgroundSpec(color=(0, 177, 64)), preview=False, **kwargs)


def decoded(path):
    with av.open(str(path)) as container:
        return [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in container.decode(container.streams.video[0])]


def test_a_file_plays_in_real_time_to_its_end(clip, tmp_path):
    started = time.monotonic()
    report = run_live(green(input=clip, output=tmp_path / "out.mp4"), person_model=RedPersonModel())
    elapsed = time.monotonic() - started
    assert report.stop == "end" and report.arrived == 12 and report.shown >= 6
    assert elapsed >= 11 / FPS - 0.02  # played at its own rate, not as fast as it decodes
    assert len(report.latencies_ms) == report.shown and min(report.latencies_ms) >= 0
    frames = decoded(tmp_path / "out.mp4")
    assert len(frames) == report.shown
    assert np.abs(frames[0][1][2, W - 3].astype(int) - [0, 177, 64]).max() < 20
    assert "12" in report.summary() and "latency" in report.summary()


def test_a_slow_model_never_falls_behind_it_drops_frames(clip, tmp_path):
    started = time.monotonic()
    report = run_live(green(input=clip, output=tmp_path / "out.mp4"), person_model=RedPersonModel(delay=0.1))
    elapsed = time.monotonic() - started
    assert report.arrived == 12 and report.dropped >= 3 and report.shown + report.dropped == 12
    assert elapsed < 12 * 0.1  # had it processed every frame, it would have taken 1.2 s
    assert max(report.latencies_ms) < 400  # each frame shown is recent, not queued
    # the recording keeps real time: frames at their arrival positions, not back to back
    times = [t for t, _ in decoded(tmp_path / "out.mp4")]
    assert len(times) == report.shown and times[-1] >= 6 / FPS


def test_ctrl_c_stops_cleanly_and_keeps_the_recording(clip, tmp_path):
    report = run_live(green(input=clip, output=tmp_path / "out.mp4"), person_model=RedPersonModel(interrupt_at=3))
    assert report.stop == "interrupted" and report.shown == 2
    assert len(decoded(tmp_path / "out.mp4")) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4"]


class StallingSource(LiveSource):
    """Two frames arriving at once, then nothing: read() blocks until interrupted."""

    def __init__(self) -> None:
        self.name, self.height, self.width, self.fps = "test stream", H, W, 30.0
        self.frames = list(person_frames(2, H, W))
        self.released = threading.Event()
        self.closed = False

    def read(self):
        if self.frames:
            return Captured(2 - len(self.frames), self.frames.pop(0), time.monotonic())
        self.released.wait(10)
        return None

    def interrupt(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.closed = True


def test_a_stalled_stream_stops_after_the_timeout(tmp_path):
    source = StallingSource()
    report = run_live(green(input=tmp_path / "unused.mp4", output=tmp_path / "out.mp4", stall_timeout=0.3),
                      person_model=RedPersonModel(), source=source)
    assert report.stop == "stalled" and report.arrived == 2 and report.shown >= 1 and source.closed
    assert "stalled" in report.summary()
    assert len(decoded(tmp_path / "out.mp4")) == report.shown


def test_stalled_stream_on_the_command_line(capsys, monkeypatch, fake_model, tmp_path):
    monkeypatch.setattr(live, "open_live_source", lambda job: StallingSource())
    code = main(["live", "--input", str(tmp_path / "x.mp4"), "--stall-timeout", "0.3", "--no-preview"])
    out, err = capsys.readouterr()
    assert code == EXIT_USER_ERROR
    assert out.startswith("live: ") and " of 2 " in out and "stream stalled" in out
    assert [line for line in err.splitlines() if line.startswith("vidseg: error: ")] == [
        "vidseg: error: test stream stalled: no frame for 0.3 s; stopped (what was recorded is kept)"]


class FailingSource(StallingSource):
    def read(self):
        if self.frames:
            return super().read()
        raise InputError("cannot decode frame 2 of test stream")


def test_a_broken_stream_is_an_error_and_leaves_no_partial_video(tmp_path):
    with pytest.raises(InputError, match="cannot decode"):
        run_live(green(input=tmp_path / "x.mp4", output=tmp_path / "out.mp4"), person_model=RedPersonModel(),
                 source=FailingSource())
    assert list(tmp_path.iterdir()) == []


def test_command_line_plays_a_file_and_prints_the_figures(capsys, fake_model, clip, tmp_path):
    code = main(["live", "--input", str(clip), "--output", str(tmp_path / "out.mp4"), "--blur", "4", "--stats"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary, stats = out.splitlines()
    assert summary.startswith("live: ") and "dropped" in summary and "latency ms: median" in summary
    assert "end of stream" in summary
    stats = json.loads(stats)
    assert stats["arrived"] == 12 and stats["shown"] + stats["dropped"] == 12 and stats["stop"] == "end"
    assert {"fps", "latency_ms_median", "latency_ms_p95", "latency_ms_max"} <= set(stats)
    assert (tmp_path / "out.mp4").stat().st_size > 0


def user_error(capsys, *args):
    code = main(["live", *map(str, args), "--no-preview"])
    _, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == EXIT_USER_ERROR and len(lines) == 1 and lines[0].startswith("vidseg: error: "), err
    return lines[0]


def test_a_camera_that_does_not_exist(capsys, fake_model, tmp_path):
    line = user_error(capsys, "--camera", "63", "--output", tmp_path / "out.mp4")
    assert "camera 63 does not exist" in line
    assert list(tmp_path.iterdir()) == []


def test_bad_sources_and_options(capsys, fake_model, clip, tmp_path):
    assert "one source" in user_error(capsys)
    assert "one source" in user_error(capsys, "--camera", "0", "--input", clip)
    assert "camera number" in user_error(capsys, "--camera", "front")
    assert "0 or more" in user_error(capsys, "--camera", "-1")
    assert "does not exist" in user_error(capsys, "--input", tmp_path / "none.mp4")
    assert "R,G,B" in user_error(capsys, "--input", clip, "--color", "1,2")
    assert "stall timeout" in user_error(capsys, "--input", clip, "--stall-timeout", "0")


def test_preview_only_with_a_display(monkeypatch):
    monkeypatch.setattr(live.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not live.display_available()
    monkeypatch.setenv("DISPLAY", ":0")
    assert live.display_available()


def test_the_recording_is_checked_before_the_source_opens(capsys, fake_model, clip, tmp_path, monkeypatch):
    monkeypatch.setattr(live, "open_live_source", None)  # opening the camera or file would fail the test
    (tmp_path / "old.mp4").write_bytes(b"an earlier recording")
    assert "--overwrite" in user_error(capsys, "--camera", "0", "--output", tmp_path / "old.mp4")
    assert (tmp_path / "old.mp4").read_bytes() == b"an earlier recording"
    (tmp_path / "folder.mp4").mkdir()
    assert "is a folder" in user_error(capsys, "--camera", "0", "--output", tmp_path / "folder.mp4")
    assert "input" in user_error(capsys, "--input", clip, "--output", clip, "--overwrite")


def test_overwrite_replaces_an_earlier_recording(capsys, fake_model, clip, tmp_path):
    (tmp_path / "out.mp4").write_bytes(b"an earlier recording")
    assert main(["live", "--input", str(clip), "--output", str(tmp_path / "out.mp4"), "--no-preview",
                 "--overwrite"]) == 0
    assert len(decoded(tmp_path / "out.mp4")) >= 6
