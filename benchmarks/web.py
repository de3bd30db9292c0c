"""The web application in a real browser: time from upload to first mask, and per-click response.

For each sequence (default: the first 3 of our VALIDATION split of DAVIS 2016, full 854x480, the
first 40 frames encoded to an H.264 mp4), a fresh ``vidseg serve`` process is started (its networks
loaded before timing starts, as on a server that has been up a few seconds) and Debian's headless
Chromium, driven by Playwright, does what a user does:

1. upload the mp4 through the page's file input, until frame 0 is drawn ("upload");
2. click the object (the protocol's first click: its pixel farthest from the boundary), until the mask
   is drawn ("first mask", timed inside the page: request, answer, mask download and drawing);
3. 5 correction clicks, each placed by the protocol of DESIGN.md on the current mask's errors
   (Shift+click when negative), each timed the same way ("per click");
4. propagate the 40 frames (frames per second as the page sees them, for information).

Baseline, measured in the same run: the same clicks through the Python API (``ClickSegmenter``) in
this process, which is what the web app adds HTTP, PNG encoding and drawing to.

    flock /tmp/vidseg-cpu.lock python benchmarks/web.py
    python benchmarks/web.py --sequences car-turn --frames 20
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.web.browser

from tests.web.browser import chromium_page, free_port  # noqa: E402
from vidseg.engine.interactive.click_segmenter import ClickSegmenter  # noqa: E402
from vidseg.eval.click_protocol import Clicker  # noqa: E402
from vidseg.eval.davis import read_sequence  # noqa: E402
from vidseg.eval.splits import VALIDATION  # noqa: E402
from vidseg.io.writers import write_video  # noqa: E402

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016-train"
CORRECTIONS = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--sequences", nargs="+", default=list(VALIDATION[:3]))
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sequences:
            frames, gt = read_sequence(args.root, name, args.frames)
            video = write_video(Path(tmp) / f"{name}.mp4", frames, fps=24)
            web = run_browser(video, gt[0], Path(tmp) / name)
            api = run_api(frames[0], gt[0], web["clicks"])
            rows.append((name, frames.shape, web, api))
            print(f"{name}: {summary(web, api)}", file=sys.stderr, flush=True)
    print_table(rows)
    return 0


def serve(data: Path, port: int) -> subprocess.Popen:
    """``vidseg serve`` on ``port``, returned once its networks are loaded."""
    process = subprocess.Popen([sys.executable, "-m", "vidseg.apps.cli", "serve", "--port", str(port),
                                "--data", str(data), "--quiet"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/config", timeout=1).json()["models_ready"]:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("vidseg serve did not get ready in 120 s")


def run_browser(video: Path, gt0: np.ndarray, work: Path) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = serve(work / "data", port)
    try:
        with chromium_page(work / "downloads") as page:
            page.goto(url + "/")
            page.wait_for_function("document.body.dataset.ready === '1'")
            started = time.perf_counter()
            page.set_input_files("#upload-input", str(video))
            page.wait_for_function("document.body.dataset.frame === '0'", timeout=120_000)
            upload_s = time.perf_counter() - started
            height, width = gt0.shape
            pred = np.zeros_like(gt0)
            clicks, times = [], []
            clicker = Clicker(gt0)
            for k in range(CORRECTIONS + 1):
                click = clicker.next(pred)
                if click is None:
                    break
                clicks.append((click.x, click.y, click.positive))
                times.append(browser_click(page, click, width, height, version=k + 2))
                pred = current_mask(url, frame=0)
            started = time.perf_counter()
            page.click("#propagate")
            page.wait_for_function("document.body.dataset.job === 'done'", timeout=600_000, polling=100)
            propagate_s = time.perf_counter() - started
            frames = int(httpx.get(f"{url}/api/projects/1").json()["job"]["done"])
    finally:
        server.terminate()
        server.wait(30)
    iou = float((pred & gt0).sum() / max((pred | gt0).sum(), 1))
    return {"upload_s": upload_s, "first_ms": times[0], "click_ms": times[1:], "clicks": clicks, "iou": iou,
            "propagate_fps": frames / propagate_s}


def browser_click(page, click, width: int, height: int, version: int) -> float:
    """Click in the page; returns the page's own time from the click to the mask drawn (ms)."""
    canvas = page.locator("#input-canvas")
    box = canvas.bounding_box()
    position = {"x": (click.x + 0.5) * box["width"] / width, "y": (click.y + 0.5) * box["height"] / height}
    canvas.click(position=position, modifiers=[] if click.positive else ["Shift"])
    page.wait_for_function(f"document.body.dataset.version === '{version}' && document.body.dataset.state === 'idle'",
                           timeout=60_000, polling=10)
    return float(page.evaluate("Number(document.body.dataset.lastEditMs)"))


def current_mask(url: str, frame: int) -> np.ndarray:
    data = httpx.get(f"{url}/api/projects/1/masks/{frame}.png").content
    return np.array(Image.open(io.BytesIO(data))) == 1


def run_api(image: np.ndarray, gt0: np.ndarray, clicks: list[tuple[int, int, bool]]) -> dict:
    """The same clicks through ClickSegmenter in this process (the network already loaded)."""
    segmenter = ClickSegmenter()
    segmenter.start(image, click=clicks[0][:2])  # warm-up, untimed
    started = time.perf_counter()
    segmenter.start(image, click=clicks[0][:2])
    first = (time.perf_counter() - started) * 1000
    times = []
    for x, y, positive in clicks[1:]:
        started = time.perf_counter()
        mask = segmenter.click(x, y, positive)
        times.append((time.perf_counter() - started) * 1000)
    mask = segmenter.mask
    iou = float((mask & gt0).sum() / max((mask | gt0).sum(), 1))
    return {"first_ms": first, "click_ms": times, "iou": iou}


def summary(web: dict, api: dict) -> str:
    return (f"upload {web['upload_s']:.2f} s, first mask {web['first_ms']:.0f} ms (API {api['first_ms']:.0f}), "
            f"click median {median(web['click_ms']):.0f} ms (API {median(api['click_ms']):.0f}), "
            f"IoU {web['iou']:.3f} (API {api['iou']:.3f}), propagation {web['propagate_fps']:.1f} FPS")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(rows) -> None:
    print("| sequence | frames | upload -> frame shown (s) | first click -> mask (ms) | upload to first mask (s) "
          "| per click, median / max (ms) | Python API: first / per click (ms) | IoU after clicks | propagation in the page (FPS) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, shape, web, api in rows:
        clicks = web["click_ms"]
        print(f"| {name} | {shape[0]} x {shape[2]}x{shape[1]} | {web['upload_s']:.2f} | {web['first_ms']:.0f} | "
              f"{web['upload_s'] + web['first_ms'] / 1000:.2f} | {median(clicks):.0f} / {max(clicks, default=float('nan')):.0f} | "
              f"{api['first_ms']:.0f} / {median(api['click_ms']):.0f} | {web['iou']:.3f} | {web['propagate_fps']:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
