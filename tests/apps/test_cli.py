"""``vidseg`` main(): SIGTERM ends a run as Ctrl-C does, with its own exit code and no leftovers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from PIL import Image

from vidseg.apps.cli import EXIT_TERMINATED, main

# vidseg segment with each mask write slowed down, so the run is surely in the middle when the
# signal comes (the overlay video's temporary file open, masks being written).
SLOW_SEGMENT = """
import sys, time
from vidseg.apps import segment
from vidseg.apps.cli import main
real = segment.write_index_png
def slow(*args, **kwargs):
    time.sleep(0.2)
    real(*args, **kwargs)
segment.write_index_png = slow
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_mid_run_exits_143_and_leaves_no_temporary_file(small_clip_root, tmp_path):
    frames, mask = small_clip_root / "JPEGImages" / "clip", small_clip_root / "Annotations" / "clip" / "00000.png"
    out = tmp_path / "masks"
    run = subprocess.Popen([sys.executable, "-c", SLOW_SEGMENT, "segment", str(frames), "--mask", str(mask),
                            "-o", str(out), "--overlay", str(tmp_path / "o.mp4"), "--method", "static", "--quiet"],
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    # glob("*.png") also matches the hidden temporary file of the mask being written
    while not (out.is_dir() and len([p for p in out.glob("*.png") if not p.name.startswith(".")]) >= 2) \
            and time.monotonic() < deadline:
        assert run.poll() is None, run.stderr.read()
        time.sleep(0.02)
    assert list(tmp_path.glob(".o.*.tmp.mp4")), "the overlay's temporary file should exist mid-run"
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == EXIT_TERMINATED, err
    assert "interrupted" in err and "Traceback" not in err
    assert not list(tmp_path.rglob(".*.tmp*")) and not (tmp_path / "o.mp4").exists()
    written = sorted(out.iterdir())
    assert 2 <= len(written) < 12
    for path in written:
        Image.open(path).load()  # each complete


def test_main_puts_the_previous_sigterm_handler_back(capsys, tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    main(["eval", str(tmp_path / "none"), str(tmp_path / "none")])
    capsys.readouterr()
    assert signal.getsignal(signal.SIGTERM) is before
