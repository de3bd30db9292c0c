"""The polar tracker against OpenCV's CSRT and KCF on our validation sequences, in one run.

Every tracker starts from the ground-truth box of the first frame (the bounding box of the
sequence's mask) and follows the object on its own. Scores over frames 1..T-1 (frames whose mask
is empty are left out), averaged per sequence, then over sequences:

- success AUC (%, OTB: the mean over overlap thresholds 0, 0.05, ..., 1 of the share of frames
  whose box overlap is above it) and precision at 20 px of centre error (%);
- J (%, region IoU per frame, DAVIS's semi-supervised convention: frames 1..T-2) of the masks:
  the polar tracker's filled polygons, and for every tracker its box filled as a mask (J box);
- FPS end to end: each tracker runs in a fresh process per sequence (start-up excluded) on the
  same JPEG frames: decode, track and, for the polar tracker, the PNG masks written (``vidseg
  track``'s own pipeline, ``run_track``); the OpenCV trackers write no masks.

OpenCV's trackers live in opencv-contrib, a benchmark-only dependency. Both wheels provide the
``cv2`` package, so installing contrib over the core ``opencv-python-headless`` would replace its
files; instead the same version goes to a folder of its own, which only the baseline processes
put on their path (the project's ``cv2`` stays untouched):

    .venv/bin/pip install --no-deps --target .venv/opencv-contrib opencv-contrib-python-headless==$(.venv/bin/python -c "import cv2; print(cv2.__version__)").93
    flock /tmp/vidseg-cpu.lock .venv/bin/python benchmarks/tracker.py
    .venv/bin/python benchmarks/tracker.py --sequences car-turn --methods polar,csrt   # a quick look
    .venv/bin/python benchmarks/tracker.py --sequences bear,hike --options '{"lost_below": 0.3}'

(pick the contrib wheel whose version equals ``pip show opencv-python-headless``.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "davis2016-train"
DEFAULT_CONTRIB = ROOT / ".venv" / "opencv-contrib"
LABELS = {"polar": "vidseg polar tracker", "csrt": "OpenCV CSRT", "kcf": "OpenCV KCF"}


def main() -> int:
    from vidseg.eval.splits import VALIDATION

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="DAVIS root (default: %(default)s)")
    parser.add_argument("--sequences", default=",".join(VALIDATION),
                        help="comma-separated, or 'all' for every sequence under --data (default: our validation split)")
    parser.add_argument("--methods", default="polar,csrt,kcf")
    parser.add_argument("--model", default="train-split",
                        help="tracker: a shipped tag or a checkpoint (default: %(default)s, the default's recipe without "
                             "the validation clips and photos)")
    parser.add_argument("--options", default="{}",
                        help="TrackerOptions fields for the polar tracker as JSON, e.g. '{\"search\": 256}'")
    parser.add_argument("--contrib", type=Path, default=DEFAULT_CONTRIB, help="folder holding opencv-contrib's cv2")
    parser.add_argument("--json", type=Path, help="also write the per-sequence results here")
    parser.add_argument("--worker", nargs=3, metavar=("METHOD", "SEQUENCE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args, *args.worker)

    methods, sequences = args.methods.split(","), args.sequences.split(",")
    if args.sequences == "all":
        sequences = sorted(p.name for p in (args.data / "JPEGImages").iterdir() if p.is_dir())
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs", file=sys.stderr)
    results: dict[str, dict[str, dict]] = {m: {} for m in methods}
    with tempfile.TemporaryDirectory(prefix="bench-tracker-") as tmp:
        for seq in sequences:
            truth_masks = _truth(args.data, seq)
            for method in methods:
                out = Path(tmp) / method / seq
                stats = _run_worker(args, method, seq, out)
                results[method][seq] = {**_score(out, truth_masks, method == "polar"), "fps": stats["fps"]}
                print(f"{seq:16s} {method:6s} " + "  ".join(f"{k} {v:.1f}" for k, v in results[method][seq].items()),
                      file=sys.stderr)
    print(f"polar tracker options: {args.options}; model: {args.model}")
    print(_table(results, sequences))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


# ---------------------------------------------------------------------------------------------


def _truth(data: Path, seq: str) -> list[np.ndarray]:
    from vidseg.io.masks import read_mask

    return [read_mask(p).labels > 0 for p in sorted((data / "Annotations" / seq).glob("*.png"))]


def _run_worker(args: argparse.Namespace, method: str, seq: str, out: Path) -> dict:
    env = dict(os.environ)
    if method != "polar":
        if not (args.contrib / "cv2").is_dir():
            sys.exit(f"{args.contrib}/cv2 is missing: install opencv-contrib there (see this script's docstring)")
        env["PYTHONPATH"] = os.pathsep.join([str(args.contrib), str(ROOT)])
    command = [sys.executable, __file__, "--data", str(args.data), "--model", args.model,
               "--options", args.options, "--worker", method, seq, str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{method} on {seq} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _worker(args: argparse.Namespace, method: str, seq: str, out: str) -> int:
    frames = args.data / "JPEGImages" / seq
    truth = _truth(args.data, seq)
    from vidseg.eval.tracking import mask_box

    box = mask_box(truth[0])
    if method == "polar":  # the pipeline of 'vidseg track'
        from vidseg.apps.track import TrackJob, run_track
        from vidseg.engine.track.polar_tracker import TrackerOptions

        from vidseg.ops.boxes import Box

        options = TrackerOptions(**json.loads(args.options))
        stats = run_track(TrackJob(frames, Box.from_xywh(*box), Path(out), model=args.model, options=options, progress=False,
                                       backend="torch"))  # the table's backend; backends.py compares
        print(json.dumps(stats.to_json()))
        return 0
    print(json.dumps(_opencv_track(method, frames, box, Path(out))))
    return 0


def _opencv_track(method: str, frames: Path, box: tuple, out: Path) -> dict:
    import cv2

    from vidseg.io.frames import FolderSource

    create = {"csrt": cv2.TrackerCSRT_create, "kcf": cv2.TrackerKCF_create}[method]
    source = FolderSource(frames)
    tracker = create()
    lines = []
    started = time.perf_counter()
    for index, frame in source.iter_frames():
        bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        if index == 0:
            tracker.init(bgr, tuple(int(round(v)) for v in box))
            lines.append(",".join(f"{v:g}" for v in box))
            continue
        ok, found = tracker.update(bgr)
        lines.append(",".join(f"{v:g}" for v in found) if ok else "0,0,0,0")
    seconds = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    (out / "boxes.txt").write_text("\n".join(lines) + "\n")
    return {"frames": len(lines), "seconds": seconds, "fps": len(lines) / seconds}


def _score(out: Path, truth_masks: list[np.ndarray], has_masks: bool) -> dict:
    from vidseg.apps.track import read_boxes
    from vidseg.eval.metrics import region_iou
    from vidseg.eval.tracking import mask_box, precision_at, success_auc
    from vidseg.io.masks import read_mask

    boxes = read_boxes(out / "boxes.txt")
    truth = [mask_box(m) for m in truth_masks]
    h, w = truth_masks[0].shape
    scored = range(1, len(truth_masks) - 1)  # DAVIS: the first and last frame are not scored
    box_j = [region_iou(_box_mask(boxes[i], h, w), truth_masks[i]) for i in scored]
    row = {"AUC": 100 * success_auc(boxes[1:], truth[1:]), "P@20": 100 * precision_at(boxes[1:], truth[1:], 20),
           "J box": 100 * float(np.mean(box_j))}
    if has_masks:
        stems = sorted((out / "masks").glob("*.png"))
        row["J"] = 100 * float(np.mean([region_iou(read_mask(stems[i]).labels > 0, truth_masks[i]) for i in scored]))
    row["lost %"] = 100 * float(np.mean([b is None for b in boxes[1:]]))
    return row


def _box_mask(box, h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    if box is not None:
        x, y, bw, bh = box
        mask[max(0, round(y)):max(0, round(y + bh)), max(0, round(x)):max(0, round(x + bw))] = True
    return mask


def _table(results: dict[str, dict[str, dict]], sequences: list[str]) -> str:
    columns = ["AUC", "P@20", "J", "J box", "lost %", "fps"]
    lines = ["| tracker | success AUC | precision@20px | J (polygon) | J (box) | lost % | FPS |",
             "|---|---|---|---|---|---|---|"]
    for method, per_seq in results.items():
        cells = []
        for c in columns:
            values = [per_seq[s][c] for s in sequences if c in per_seq[s]]
            cells.append(f"{np.mean(values):.1f}" if values else "-")
        lines.append(f"| {LABELS.get(method, method)} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("per sequence, success AUC (" + " / ".join(results) + "): " + "; ".join(
        f"{s} " + " / ".join(f"{results[m][s]['AUC']:.1f}" for m in results) for s in sequences))
    if "polar" in results:
        lines.append("per sequence, J of the polygons: " + "; ".join(
            f"{s} {results['polar'][s]['J']:.1f}" for s in sequences))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
