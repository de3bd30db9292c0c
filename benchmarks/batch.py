"""Videos per minute of ``vidseg batch`` with 1 and 2 local Ray workers, beside the plain loop.

Input: the VALIDATION sequences of ``../shared/data/davis2016-train``, each cut to its first
``--frames`` frames and scaled by ``--scale``, written to a temporary folder (never into the
project), each twice in the manifest: prompted by its first mask and by that mask's box. Rows:

- ``loop``: ``run_segment`` over the same videos one after another in this process, with torch's
  default threads (what a user's shell loop of ``vidseg segment`` does, less each start-up), and
  again with one thread, as a batch worker runs it;
- ``batch N``: ``vidseg batch MANIFEST -o OUT --workers N`` end to end (a fresh process: Ray
  start, the videos, Ray stop), timed from outside;
- ``ray start+stop``: a local cluster started and stopped with no video, the fixed cost inside
  each batch row.

Run on an idle machine under the shared lock:

    flock /tmp/vidseg-cpu.lock .venv/bin/python benchmarks/batch.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from vidseg.apps.batch_video import limit_threads
from vidseg.eval.splits import VALIDATION
from vidseg.io.masks import read_mask, write_index_png

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "davis2016-train"


def prepare(data: Path, work: Path, frames: int, scale: float) -> tuple[Path, int]:
    """Shortened, scaled copies of the VALIDATION sequences and a manifest (mask and box per sequence)."""
    lines, total = [], 0
    for name in VALIDATION:
        files = sorted((data / "JPEGImages" / name).glob("*.jpg"))[:frames]
        out = work / "frames" / name
        out.mkdir(parents=True)
        for path in files:
            image = cv2.imread(str(path))
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(out / path.name), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        labels = read_mask(data / "Annotations" / name / f"{files[0].stem}.png").labels
        h, w = image.shape[:2]
        labels = cv2.resize((labels > 0).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        write_index_png(work / "masks" / f"{name}.png", labels)
        ys, xs = np.nonzero(labels)
        box = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
        lines.append({"id": f"{name}-mask", "input": f"frames/{name}", "mask": f"masks/{name}.png"})
        lines.append({"id": f"{name}-box", "input": f"frames/{name}", "box": box})
        total += 2 * len(files)
    manifest = work / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return manifest, total


def time_loop(manifest: Path, out: Path) -> float:
    """The same videos through run_segment one by one, in this process."""
    from vidseg.apps.batch_manifest import read_manifest
    from vidseg.apps.segment import SegmentJob, run_segment

    started = time.perf_counter()
    for item in read_manifest(manifest):
        run_segment(SegmentJob(input=item.input, mask=item.mask, box=item.box, out_dir=out / item.id, progress=False))
    return time.perf_counter() - started


def time_batch(manifest: Path, out: Path, workers: int) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "vidseg.apps.cli", "batch", str(manifest), "-o", str(out),
                             "--workers", str(workers), "--quiet"], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"vidseg batch failed: {result.stderr}")
    return seconds


def time_cluster(workers: int) -> float:
    code = ("import time; from vidseg.apps.ray_cluster import ray_cluster\n"
            f"t = time.perf_counter()\nwith ray_cluster(None, {workers}) as ray: pass\n"
            "print(time.perf_counter() - t)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def same_outputs(a: Path, b: Path) -> bool:
    files = sorted(p.relative_to(a) for p in a.rglob("*.png"))
    return bool(files) and files == sorted(p.relative_to(b) for p in b.rglob("*.png")) and all(
        (a / f).read_bytes() == (b / f).read_bytes() for f in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--frames", type=int, default=24, help="first frames of each sequence (default: %(default)s)")
    parser.add_argument("--scale", type=float, default=0.5, help="frame scale (default: %(default)s, 427x240)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if not (args.data / "JPEGImages").is_dir():
        raise SystemExit(f"{args.data} is not a DAVIS root")
    load = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory(prefix="vidseg-batch-bench-") as tmp:
        work = Path(tmp)
        manifest, frames = prepare(args.data, work, args.frames, args.scale)
        videos = len(manifest.read_text().splitlines())
        rows = [(f"loop (run_segment, one process, {_threads()} torch threads)", time_loop(manifest, work / "loop"))]
        limit_threads()  # as in a batch worker: the loop alone, without Ray
        rows.append(("loop (run_segment, one process, 1 thread)", time_loop(manifest, work / "loop1")))
        for workers in args.workers:
            rows.append((f"vidseg batch --workers {workers}", time_batch(manifest, work / f"batch{workers}", workers)))
        start_stop = {w: time_cluster(w) for w in args.workers}
        identical = all(same_outputs(work / f"batch{args.workers[0]}", work / f"batch{w}") for w in args.workers[1:])
        shutil.rmtree(work / "frames")
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print(f"{videos} videos ({len(VALIDATION)} VALIDATION sequences x mask/box prompt), {frames} frames, "
          f"first {args.frames} frames at scale {args.scale}; {os.cpu_count()} CPUs; "
          f"load before: {' '.join(load)}, after: {' '.join(load_after)}")
    print()
    print("| run | wall s | videos/min | frames/s |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {60 * videos / seconds:.1f} | {frames / seconds:.1f} |")
    for workers, seconds in start_stop.items():
        print(f"| Ray local cluster start+stop, {workers} CPUs, no video | {seconds:.1f} | | |")
    print()
    print(f"batch outputs identical across worker counts: {identical}")


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
