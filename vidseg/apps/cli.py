"""The ``vidseg`` command line: one sub-command per job, user mistakes as one-line errors."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from vidseg.errors import VidsegError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except VidsegError as err:
        print(f"vidseg: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as err:  # disk full, permission denied: the environment's, not a bug
        print(f"vidseg: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("vidseg: interrupted; files already written are complete, none is half-written", file=sys.stderr)
        return EXIT_INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    from vidseg import __version__

    parser = argparse.ArgumentParser(prog="vidseg", description="Video object segmentation on a CPU.")
    parser.add_argument("--version", action="version", version=f"vidseg {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_segment(commands)
    _add_eval(commands)
    _add_demo(commands)
    return parser


def _add_segment(commands: argparse._SubParsersAction) -> None:
    from vidseg.engine.methods import method_names

    p = commands.add_parser("segment", help="segment objects through a video from their masks")
    p.add_argument("input", type=Path, help="video file (mp4, mov, mkv, webm, avi) or folder of jpg/png frames")
    p.add_argument("--mask", type=Path, required=True,
                   help="index PNG for the first frame, or a folder of index PNGs named by frame stem")
    p.add_argument("-o", "--out", dest="out_dir", type=Path, required=True, help="folder for one index PNG per frame")
    p.add_argument("--method", default="default", choices=method_names(), help="propagation method (default: %(default)s)")
    p.add_argument("--overlay", type=Path, help="also write an overlay video (H.264 mp4)")
    p.add_argument("--alpha", type=Path, help="also write the cut-out: RGBA PNGs into this folder, or a VP9 video with alpha if it ends in .webm")
    p.add_argument("--rle", type=Path, help="also write COCO RLE masks as one JSON file")
    p.add_argument("--stats", action="store_true", help="print one JSON line of frames, seconds, fps, peak memory")
    p.add_argument("--overwrite", action="store_true", help="allow an output folder that already holds files")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run_segment)


def _run_segment(args: argparse.Namespace) -> int:
    from vidseg.apps.segment import SegmentJob, run_segment

    job = SegmentJob(input=args.input, mask=args.mask, out_dir=args.out_dir, method=args.method,
                     overlay=args.overlay, alpha=args.alpha, rle=args.rle, overwrite=args.overwrite,
                     progress=not args.quiet)
    stats = run_segment(job)
    print(f"wrote {stats.frames} masks to {args.out_dir}", file=sys.stderr)
    if args.stats:
        print(json.dumps(stats.to_json()))
    return 0


def _add_eval(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("eval", help="score predicted masks against ground truth (J, F, J&F)")
    p.add_argument("gt_root", type=Path, help="ground truth: a DAVIS root or a folder of sequence folders")
    p.add_argument("pred_root", type=Path, help="predictions: a folder of sequence folders of index PNGs")
    p.add_argument("--json", type=Path, help="also write the scores as JSON")
    p.set_defaults(run=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:
    from vidseg.eval import evaluate_roots
    from vidseg.io.atomic import write_text_atomic

    result = evaluate_roots(args.gt_root, args.pred_root)
    print(result.format_table())
    if args.json:
        write_text_atomic(args.json, json.dumps(result.to_json(), indent=2) + "\n")
    return 0


def _add_demo(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("demo", help="render an example clip with ground truth, segment it and score it")
    p.add_argument("-o", "--out", dest="out_dir", type=Path, default=Path("out/demo"),
                   help="folder for the clip, the masks and the overlay (default: %(default)s)")
    p.add_argument("--method", default="default", help="propagation method (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="which example clip to render (default: %(default)s)")
    p.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from vidseg.apps.demo import run_demo

    report = run_demo(args.out_dir, method=args.method, seed=args.seed)
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
