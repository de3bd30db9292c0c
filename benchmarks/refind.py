"""Does the polar tracker help the propagation find an object again? Both settings, one run.

Rows: the ``fast`` preset (with the network trained on TRAIN only, ``--model``), and the same with
:mod:`vidseg.engine.vos.redetect` on (presence check + tracker proposals). Each runs on every sequence
twice:

- as is (DAVIS 2016 objects hardly ever disappear, so this shows what the check costs when
  nothing is lost: false alarms, time);
- hidden (:mod:`vidseg.data.occlusion`): a wall slides in from the left, hides the object
  completely for ``--hold`` frames from a third of the way in, and slides out; the wall's texture
  is the first frame of another sequence. The ground truth loses the covered pixels.

Columns (percent): J&F over frames 1..T-2 (DAVIS's convention; a frame whose object is hidden
scores 1 only for an empty mask); J on the hidden frames; J on the ``--after`` frames after the
wall has gone ("return"); FPS of the propagation alone (the frames are in memory, nothing is
written; start-up excluded). Everything runs in this process, one row after the other.

    flock /tmp/vidseg-cpu.lock .venv/bin/python benchmarks/refind.py                 # validation
    .venv/bin/python benchmarks/refind.py --sequences bear,boat --options '{"lost_below": 0.5}'
    .venv/bin/python benchmarks/refind.py --sequences bear,boat --options '[{}, {"found_above": 0.9}]'  # a row each
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "davis2016-train"
# The shipped vos.pt was trained on all 30 sequences; this one on TRAIN only, so scores on
# the validation sequences are held out (as in benchmarks/vos_ablation.py). So is the tracker's
# train-split file (``--tracker``; the shipped default tracker learnt every sequence).
DEFAULT_MODEL = ROOT / "vidseg" / "weights" / "vos-train-split.pt"


@dataclass
class Clip:
    frames: np.ndarray  # (T, H, W, 3) uint8
    masks: np.ndarray   # (T, H, W) uint8 ids
    hidden: range       # frames where the object is fully hidden (empty for the clip as is)
    after: range        # frames just after the wall has gone


def main() -> int:
    from vidseg.eval.splits import VALIDATION

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="DAVIS root (default: %(default)s)")
    parser.add_argument("--sequences", default=",".join(VALIDATION), help="comma-separated (default: our validation split)")
    parser.add_argument("--hold", type=int, default=10, help="frames the object stays hidden (default: %(default)s)")
    parser.add_argument("--after", type=int, default=20, help="frames scored as the return (default: %(default)s)")
    parser.add_argument("--options", default="{}",
                        help="RedetectConfig fields as JSON, e.g. '{\"lost_below\": 0.5}', or a list of such for one row each")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL,
                        help="propagation checkpoint (default: %(default)s, trained on TRAIN only)")
    parser.add_argument("--tracker", default="train-split",
                        help="re-finding's tracker: a shipped tag or a checkpoint (default: %(default)s, trained on TRAIN only)")
    parser.add_argument("--json", type=Path, help="also write the per-sequence results here")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"error: no DAVIS data at {args.data}; pass --data")
    results = run(args)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def run(args: argparse.Namespace) -> dict[str, dict[str, dict]]:
    """{row: {sequence/variant: scores}}."""
    import torch

    from vidseg.engine.vos.network_propagator import NetworkPropagator
    from vidseg.engine.vos.presets import PRESETS
    from vidseg.engine.vos.redetect import RedetectConfig
    from vidseg.nn.registry import load_model

    torch.set_grad_enabled(False)
    model = load_model("vos", args.model)
    fast = PRESETS["fast"]
    options = json.loads(args.options)
    rows = {"fast": fast}
    for fields in options if isinstance(options, list) else [options]:
        label = "fast + refind" + (f" {json.dumps(fields)}" if isinstance(options, list) else "")
        rows[label] = replace(fast, refind=RedetectConfig(**{"tracker": args.tracker, **fields}))
    results: dict[str, dict[str, dict]] = {row: {} for row in rows}
    for seq in args.sequences.split(","):
        for variant, clip in clips(args.data, seq, args.hold, args.after).items():
            for row, config in rows.items():
                scores = segment_and_score(NetworkPropagator(model, config), clip)
                results[row][f"{seq}/{variant}"] = scores
                print(f"{row:14s} {seq:16s} {variant:7s} " + " ".join(f"{k} {v:.1f}" for k, v in scores.items()),
                      file=sys.stderr, flush=True)
    return results


def clips(data: Path, seq: str, hold: int, after: int) -> dict[str, Clip]:
    """The sequence as is and with the wall over it."""
    from vidseg.data.occlusion import Occlusion, occlude
    from vidseg.eval.davis import read_sequence
    from vidseg.eval.splits import ALL

    frames, masks = read_sequence(data, seq)
    masks = masks.astype(np.uint8)
    occlusion = Occlusion(start=len(frames) // 3, hold=hold)
    wall_frames, _ = read_sequence(data, ALL[(ALL.index(seq) + 7) % len(ALL)] if seq in ALL else seq, count=1)
    wall = np.concatenate([wall_frames[0], wall_frames[0][:, ::-1]], axis=1)  # wide enough for any band
    hidden_frames, hidden_masks = occlude(frames, masks, occlusion, _fit_height(wall, frames.shape[1]))
    gone = occlusion.start + occlusion.hold + occlusion.slide
    return {"as is": Clip(frames, masks, range(0), range(0)),
            "hidden": Clip(hidden_frames, hidden_masks, range(occlusion.start, occlusion.start + hold),
                           range(gone, min(gone + after, len(frames) - 1)))}


def _fit_height(wall: np.ndarray, height: int) -> np.ndarray:
    import cv2

    return wall if wall.shape[0] == height else cv2.resize(wall, (wall.shape[1], height))


def segment_and_score(propagator, clip: Clip) -> dict[str, float]:
    """Propagate from the first frame's mask; J&F, J hidden, J return (percent) and FPS."""
    from vidseg.engine.session import Session
    from vidseg.eval.metrics import boundary_f, region_iou
    from vidseg.io.frames import ArraySource

    session = Session(ArraySource(clip.frames), propagator)
    session.add_mask(0, clip.masks[0])
    started = time.perf_counter()
    labels = [lab for _, lab in session.propagate()]
    seconds = time.perf_counter() - started
    scored = range(1, len(labels) - 1)
    j = {t: region_iou(labels[t] > 0, clip.masks[t] > 0) for t in scored}
    f = [boundary_f(labels[t] > 0, clip.masks[t] > 0) for t in scored]

    def mean_j(frames: range) -> float:
        return 100 * float(np.mean([j[t] for t in frames])) if len(frames) else float("nan")

    return {"JF": 50 * (float(np.mean(list(j.values()))) + float(np.mean(f))), "J hidden": mean_j(clip.hidden),
            "J return": mean_j(clip.after), "FPS": len(labels) / seconds}


def table(results: dict[str, dict[str, dict]]) -> str:
    """Markdown: per row and variant, the means over sequences; then J&F per sequence."""
    lines = ["| row | J&F as is | FPS as is | J&F hidden | J hidden frames | J return | FPS hidden |",
             "|---|---|---|---|---|---|---|"]
    for row, per in results.items():
        def avg(variant: str, key: str) -> float:
            return float(np.mean([s[key] for name, s in per.items() if name.endswith("/" + variant)]))
        lines.append(f"| {row} | {avg('as is', 'JF'):.1f} | {avg('as is', 'FPS'):.1f} | {avg('hidden', 'JF'):.1f} | "
                     f"{avg('hidden', 'J hidden'):.1f} | {avg('hidden', 'J return'):.1f} | {avg('hidden', 'FPS'):.1f} |")
    names = list(next(iter(results.values())))
    lines += ["", "| sequence | " + " | ".join(f"{row} J&F" for row in results) + " |",
              "|---|" + "---|" * len(results)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(f"{results[row][name]['JF']:.1f}" for row in results) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
