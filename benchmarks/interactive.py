"""Interactive segmentation, ours vs OpenCV GrabCut: IoU after the box and after clicks, NoC, latency.

On every 10th frame of each sequence (full resolution, 854x480 on DAVIS), the object (every mask id
> 0; frames whose object has fewer than 100 pixels are skipped) is selected with its tight bounding
box, then corrected with up to 20 simulated clicks, each placed by the protocol of DESIGN.md
(:mod:`vidseg.eval.click_protocol`). Both methods get the same box, and each click goes at the error
of that method's own current mask. GrabCut (:mod:`vidseg.eval.grabcut`) runs on a region of interest
around the box and marks each click as a sure foreground / background disk of radius 5.

Columns: mean IoU (percent) from the box alone and after 1, 3 and 5 clicks; mean NoC@85 and NoC@90
(the box is not a click; a frame that never reaches the IoU counts 20); median latency of the first
mask (the box call) and the median and 95th percentile of a correction click, in milliseconds, after
one untimed warm-up box and click. A frame's run stops once IoU >= 0.90 after at least 5 clicks
(``--all-clicks`` runs all 20); later IoUs repeat the last, which leaves every column above unchanged.
With ``--all-clicks`` a line under the table also gives each method's mean IoU over clicks 1-20: a
finer signal than NoC where most frames reach a threshold in a click or two, or never (with the early
stop it would be biased low, so it is left out then).

    python benchmarks/interactive.py                                   # our validation sequences
    python benchmarks/interactive.py --sequences car-turn --max-frames 3 --methods grabcut
    python benchmarks/interactive.py --photos ../shared/data/static        # the held-out photos
    python benchmarks/interactive.py --sequences boat,flamingo --thin-parts 0  # with thin parts drawn

``--thin-parts SEED`` draws thin occluders or thin attached parts over every frame, as training's
``--thin-share`` does (:mod:`vidseg.train.thin_parts`), the ground truth changed to match: a check,
on frames chosen for tuning, of how a network cuts or keeps thin structures. ``--faint-grass`` draws
occluders only, every tuft of grass faint (training's ``--thin-faint``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vidseg.errors import VidsegError
from vidseg.eval.click_protocol import ClickModel, ClickRun, clicks_to_reach, next_click, run_clicks
from vidseg.eval.grabcut import GrabCutSegmenter
from vidseg.eval.splits import VALIDATION
from vidseg.io.frames import open_frames, read_rgb
from vidseg.io.masks import read_mask
from vidseg.train.photos import photo_folders, photo_pairs
from vidseg.train.thin_parts import add_thin_parts

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016-train"
MAX_CLICKS = 20
STOP_AT = 0.90  # the highest NoC threshold reported: stopping there changes no column
MIN_PIXELS = 100
DEFAULT_STRETCH = 2.0  # vidseg-stretch's largest window stretch (the trial in docs/benchmarks.md)
DEFAULT_FOCUS_ZOOM = 2.0  # vidseg-focus-zoom's largest zoom: the one run before 1.5 was chosen
DEFAULT_THIN_ZOOM = 4.0  # vidseg-thin-zoom's close-pass zoom: the network trained for it saw up to 4x (docs/benchmarks.md)
LABELS = {"vidseg": "vidseg interactive", "vidseg-no-hold": "- clicks held", "vidseg-no-focus": "- focus pass",
          "vidseg-no-tiles": "- outline tiles (merge from click 2)",
          "vidseg-no-merge": "- local merge of a click's change", "vidseg-no-guide": "- guided-filter upsampling",
          "vidseg-all-steps": "all steps: merge, graph cut, guided filter",
          "vidseg-global-clicks": "- local merge", "vidseg-click-cues": "+ clicks seed the colour cue",
          "vidseg-no-click-cues": "- clicks seed the colour cue", "vidseg-stretch": "+ stretched selection windows",
          "vidseg-no-stretch": "- stretched selection windows", "vidseg-no-mirror": "- mirrored passes",
          "vidseg-focus-zoom": "focus pass zoomed as before (--focus-zoom)",
          "vidseg-thin-zoom": "+ close pass after thin changes (--thin-zoom)",
          "vidseg-no-graph-cut": "- merge, graph cut", "vidseg-network": "- merge, cut, guided filter",
          "previous": "previous network", "other": "other network", "grabcut": "GrabCut",
          "hybrid": "first mask by --model, clicks by --other-model"}


@dataclass
class FrameRun:
    """One method on one frame: where, the object's size and box, and the click run."""

    sequence: str
    frame: str
    pixels: int
    box: tuple[int, int, int, int]
    run: ClickRun


@dataclass
class Row:
    """A method's summary over all frames: IoU in percent, NoC in clicks, latency in milliseconds."""

    label: str
    frames: int
    iou_box: float
    iou_1: float
    iou_3: float
    iou_5: float
    noc_85: float
    noc_90: float
    first_ms_median: float
    click_ms_median: float
    click_ms_p95: float
    iou_by_clicks: list[float]  # mean IoU after 0..MAX_CLICKS clicks


def tight_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of a non-empty (H, W) bool mask, x1 / y1 exclusive."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def make_segmenters(methods: list[str], model: str, previous: str = "default",
                    other: str | None = None, stretch: float = DEFAULT_STRETCH,
                    focus_zoom: float = DEFAULT_FOCUS_ZOOM, thin_zoom: float = DEFAULT_THIN_ZOOM
                    ) -> dict[str, ClickModel]:
    """One segmenter per method name, built once and reused for every frame; "previous" is the whole
    pipeline with the ``previous`` network (the one shipped before ``model``), "other" with ``other``
    (any network to compare, e.g. an earlier version of ``model``)."""
    segmenters: dict[str, ClickModel] = {}
    for method in methods:
        if method == "grabcut":
            segmenters[method] = GrabCutSegmenter()
        else:
            try:
                # Imported here so that the GrabCut row runs without the network's dependencies.
                from vidseg.engine.interactive.click_segmenter import ClickSegmenter, FocusConfig, RefineConfig
                from vidseg.engine.interactive.graph_cut import GraphCutConfig
                from vidseg.engine.interactive.outline_tiles import TileConfig

                if method in ("vidseg", "previous", "other"):  # the steps chosen for each network
                    segmenters[method] = ClickSegmenter(model={"previous": previous, "other": other}.get(method, model),
                                                        backend="torch")  # the table's backend; backends.py compares
                    continue
                if method == "hybrid":
                    segmenters[method] = HybridClicks(ClickSegmenter(model=model, backend="torch"),
                                                      ClickSegmenter(model=other, backend="torch"))
                    continue
                # The chosen steps with one changed: each ablation row's ClickSegmenter options.
                ablations = {"vidseg-stretch": {"stretch": stretch}, "vidseg-no-stretch": {"stretch": 1.0},
                             "vidseg-no-hold": {"hold_radius": 0}, "vidseg-no-merge": {"merge_locally": False},
                             "vidseg-no-mirror": {"mirror": False},
                             "vidseg-no-guide": {"refine": RefineConfig(enabled=False)},
                             "vidseg-click-cues": {"click_cues": True}, "vidseg-no-click-cues": {"click_cues": False},
                             "vidseg-no-focus": {"focus": FocusConfig(enabled=False)},
                             "vidseg-focus-zoom": {"focus": FocusConfig(max_zoom=focus_zoom)},
                             "vidseg-thin-zoom": {"focus": FocusConfig(thin_zoom=thin_zoom)},
                             # Without tiles the merge from the second click was the better choice.
                             "vidseg-no-tiles": {"tiles": TileConfig(enabled=False), "merge_from": 2}}
                if method in ablations:
                    segmenters[method] = ClickSegmenter(model=model, backend="torch", **ablations[method])
                    continue
                # The guided filter as chosen for the network (its radius), or bilinear.
                refine = RefineConfig(enabled=False) if method == "vidseg-network" else None
                graph_cut = GraphCutConfig(enabled=method in ("vidseg-all-steps", "vidseg-global-clicks"))
                segmenters[method] = ClickSegmenter(model=model, refine=refine, graph_cut=graph_cut,
                                                    merge_locally=method == "vidseg-all-steps", backend="torch")
            except (ImportError, VidsegError) as error:
                raise SystemExit(f"cannot load our interactive model ({error}); "
                                 "pass --model PATH, or --methods grabcut for the baseline alone") from error
    return segmenters


class HybridClicks:
    """A trial: the first mask from one network (``first``), every correction from another
    (``corrector``), which starts from that mask as the mask to correct."""

    def __init__(self, first, corrector) -> None:
        self.first, self.corrector = first, corrector
        self._current = first

    def start(self, image: np.ndarray, box=None, click=None) -> np.ndarray:
        mask = self.first.start(image, box=box, click=click)
        self._current = self.first
        if mask.any():
            self._current = self.corrector
            self.corrector.start(image, mask=mask)
        return mask

    def click(self, x: float, y: float, positive: bool = True) -> np.ndarray:
        return self._current.click(x, y, positive)


def warm_up(segmenters: dict[str, ClickModel], image: np.ndarray, gt: np.ndarray,
            box: tuple[int, int, int, int]) -> None:
    """One untimed box and click per segmenter, so that one-off start-up costs (lazy initialisation,
    first-call allocations) stay out of the latencies, as start-up stays out of our other benchmarks."""
    for segmenter in segmenters.values():
        mask = segmenter.start(image, box=box)
        click = next_click(mask, gt)
        if click is not None:
            segmenter.click(click.x, click.y, click.positive)


def davis_items(root: Path, sequences: list[str], every: int) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """(sequence, frame, image (H, W, 3), object mask (H, W) bool) of every ``every``-th frame."""
    for seq in sequences:
        with open_frames(root / "JPEGImages" / seq) as frames:
            for i in range(0, len(frames), every):
                stem = frames.stems[i]
                yield seq, stem, frames.read(i), read_mask(root / "Annotations" / seq / f"{stem}.png").labels > 0


def photo_items(root: Path) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """(folder, photo, image, mask) of each photo our split holds out from training
    (:func:`vidseg.eval.splits.photo_in_split`), at its own size; the whole mask is the object."""
    for folder, path, mask_path in photo_pairs(root, "validation"):
        yield folder, path.stem, read_rgb(path), read_mask(mask_path).labels > 0


def with_thin_parts(items: Iterator[tuple[str, str, np.ndarray, np.ndarray]], seed: int, faint: bool = False
                    ) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """Each item with thin parts drawn over it (:func:`vidseg.train.thin_parts.add_thin_parts`,
    drawn from ``seed`` and the item's index, so every method and run sees the same), its mask to match;
    ``faint``: occluders only, every tuft of grass faint (half transparent, pale, defocused)."""
    kinds = {"attached_share": 0.0, "faint_share": 1.0} if faint else {}
    for index, (seq, stem, image, gt) in enumerate(items):
        painted, labels, _ = add_thin_parts(np.random.default_rng([seed, index]), image, gt.astype(np.uint8), **kinds)
        yield seq, stem, painted, labels > 0


def run_benchmark(items: Iterator[tuple[str, str, np.ndarray, np.ndarray]], segmenters: dict[str, ClickModel],
                  max_frames: int | None, stop_at: float | None) -> dict[str, list[FrameRun]]:
    """Every item (at most ``max_frames`` in all) through every segmenter."""
    results: dict[str, list[FrameRun]] = {name: [] for name in segmenters}
    done = 0
    for seq, stem, image, gt in items:
        if max_frames is not None and done >= max_frames:
            break
        pixels = int(np.count_nonzero(gt))
        if pixels < MIN_PIXELS:
            print(f"{seq}/{stem}: object of {pixels} pixels, skipped", file=sys.stderr)
            continue
        box = tight_box(gt)
        if done == 0:
            warm_up(segmenters, image, gt, box)
        notes = []
        for name, segmenter in segmenters.items():
            run = run_clicks(segmenter, image, gt, box, max_clicks=MAX_CLICKS, stop_at=stop_at)
            results[name].append(FrameRun(seq, stem, pixels, box, run))
            notes.append(f"{name} box {100 * run.ious[0]:.1f} 5 clicks {100 * run.ious[5]:.1f} "
                         f"NoC@90 {clicks_to_reach(run.ious, 0.90, MAX_CLICKS)}")
        done += 1
        print(f"{seq}/{stem}: " + "; ".join(notes), file=sys.stderr, flush=True)
    return results


def summarise(label: str, runs: list[FrameRun]) -> Row:
    ious = np.array([r.run.ious for r in runs])  # (frames, MAX_CLICKS + 1)
    clicks_ms = 1000 * np.array([s for r in runs for s in r.run.click_seconds])
    first_ms = 1000 * np.array([r.run.start_seconds for r in runs])
    click_median, click_p95 = (np.percentile(clicks_ms, [50, 95]) if clicks_ms.size else (np.nan, np.nan))
    return Row(
        label=label, frames=len(runs),
        iou_box=100 * ious[:, 0].mean(), iou_1=100 * ious[:, 1].mean(),
        iou_3=100 * ious[:, 3].mean(), iou_5=100 * ious[:, 5].mean(),
        noc_85=float(np.mean([clicks_to_reach(r.run.ious, 0.85, MAX_CLICKS) for r in runs])),
        noc_90=float(np.mean([clicks_to_reach(r.run.ious, 0.90, MAX_CLICKS) for r in runs])),
        first_ms_median=float(np.median(first_ms)), click_ms_median=float(click_median),
        click_ms_p95=float(click_p95), iou_by_clicks=[float(v) for v in 100 * ious.mean(axis=0)],
    )


def format_table(rows: list[Row]) -> str:
    width = max(len("method"), *(len(r.label) for r in rows))
    head = (f"| {'method':<{width}} | frames | IoU box | 1 click | 3 clicks | 5 clicks | NoC@85 | NoC@90 "
            f"| first mask ms | click ms median | click ms p95 |")
    lines = [head, "|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|"]
    for r in rows:
        lines.append(f"| {r.label:<{width}} | {r.frames:6d} | {r.iou_box:7.1f} | {r.iou_1:7.1f} | {r.iou_3:8.1f} "
                     f"| {r.iou_5:8.1f} | {r.noc_85:6.2f} | {r.noc_90:6.2f} | {r.first_ms_median:13.0f} "
                     f"| {r.click_ms_median:15.0f} | {r.click_ms_p95:12.0f} |")
    return "\n".join(lines)


def mean_iou_line(rows: list[Row]) -> str:
    """Each method's mean IoU (percent) over clicks 1..MAX_CLICKS, averaged over frames."""
    return f"mean IoU over clicks 1-{MAX_CLICKS}: " + "; ".join(
        f"{r.label} {np.mean(r.iou_by_clicks[1:]):.2f}" for r in rows)


def write_json(path: Path, rows: list[Row], results: dict[str, list[FrameRun]], args: argparse.Namespace,
               sequences: list[str]) -> None:
    data = {
        "data": str(args.data), "sequences": sequences, "every": args.every, "max_frames": args.max_frames,
        "model": args.model, "previous_model": args.previous_model, "other_model": args.other_model, "thin_parts": args.thin_parts, "faint_grass": args.faint_grass, "stretch": args.stretch, "focus_zoom": args.focus_zoom, "thin_zoom": args.thin_zoom, "max_clicks": MAX_CLICKS, "stop_at": None if args.all_clicks else STOP_AT,
        "rows": [asdict(r) for r in rows],
        "frames": {LABELS[name]: [{"sequence": f.sequence, "frame": f.frame, "pixels": f.pixels, "box": f.box,
                                   "ious": f.run.ious, "start_seconds": f.run.start_seconds,
                                   "click_seconds": f.run.click_seconds,
                                   "clicks": [asdict(c) for c in f.run.clicks]} for f in runs]
                   for name, runs in results.items()},
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", "--root", dest="data", type=Path, default=DEFAULT_ROOT,
                        help="DAVIS-layout root (JPEGImages/, Annotations/)")
    parser.add_argument("--sequences", default=",".join(VALIDATION),
                        help="comma-separated (default: our validation split)")
    parser.add_argument("--every", type=int, default=10, help="use every N-th frame (default 10)")
    parser.add_argument("--max-frames", type=int, help="stop after N frames in all (quick trials)")
    parser.add_argument("--photos", type=Path, help="score the photos our split holds out (every 10th of each "
                        "folder, e.g. ../shared/data/static) instead of DAVIS frames")
    parser.add_argument("--model", default="train-split",
                        help='interactive model: a shipped tag or a checkpoint path (default: %(default)s, the '
                             "default's recipe on our training split and photos, which never saw the validation frames)")
    parser.add_argument("--previous-model", default="separable",
                        help='the network of the "previous" method: a shipped tag or a checkpoint path '
                             "(default: %(default)s, the previous default)")
    parser.add_argument("--other-model", help='the network of the "other" method: a shipped tag or a checkpoint path')
    parser.add_argument("--other-label", default="other network", help='the "other" method\'s row label')
    parser.add_argument("--methods", default="vidseg,grabcut", help="comma-separated: vidseg (the steps chosen for the network), vidseg-no-hold (those steps, "
                        "but a click's pixel may stay wrong), vidseg-no-focus (those steps without the focus pass), vidseg-no-tiles (without the focus passes along the first mask's outline, the local merge from the second click as chosen without them), vidseg-no-merge (without the local merge), vidseg-no-mirror (no pass run mirrored), vidseg-no-guide (bilinear upsampling instead of the guided filter), vidseg-click-cues / vidseg-no-click-cues (the clicks seeding the colour cue, or not, whatever the network was trained with), vidseg-stretch / vidseg-no-stretch (selection windows stretched up to --stretch, or squares), vidseg-focus-zoom (the focus pass and tiles magnifying up to --focus-zoom), vidseg-thin-zoom (a close pass at --thin-zoom after a click that changed only a thin part), vidseg-all-steps (local merge, "
                        "graph cut, guided filter), vidseg-global-clicks (no local merge), vidseg-no-graph-cut, "
                        "vidseg-network (none of the three: no graph cut, no edge-aware upsampling, no local merge), "
                        "previous (--previous-model with the steps chosen for it), other (--other-model, likewise), hybrid "
                        "(the first mask by --model, the clicks by --other-model), grabcut")
    parser.add_argument("--focus-zoom", type=float, default=DEFAULT_FOCUS_ZOOM,
                        help="vidseg-focus-zoom's largest focus-pass zoom (default %(default)s)")
    parser.add_argument("--thin-zoom", type=float, default=DEFAULT_THIN_ZOOM,
                        help="vidseg-thin-zoom's close-pass zoom (default %(default)s)")
    parser.add_argument("--stretch", type=float, default=DEFAULT_STRETCH,
                        help="vidseg-stretch's largest window stretch (default %(default)s)")
    parser.add_argument("--thin-parts", type=int, metavar="SEED",
                        help="draw thin occluders or attached parts over every frame (from this seed), the "
                             "ground truth changed to match")
    parser.add_argument("--faint-grass", action="store_true",
                        help="with --thin-parts: occluders only (poles, grass), every tuft of grass faint")
    parser.add_argument("--all-clicks", action="store_true", help=f"always make {MAX_CLICKS} clicks (no early stop)")
    parser.add_argument("--json", type=Path, help="also write the summary and per-frame IoUs as JSON")
    args = parser.parse_args()
    if args.every < 1:
        parser.error("--every must be >= 1")
    if args.max_frames is not None and args.max_frames < 1:
        parser.error("--max-frames must be >= 1")
    return args


def main() -> None:
    args = parse_args()
    sequences = [s.strip() for s in args.sequences.split(",") if s.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in LABELS]
    if unknown or not methods:
        raise SystemExit(f"unknown methods: {', '.join(unknown) or '(none)'}; choose from: {', '.join(LABELS)}")
    if args.photos is not None:
        try:
            folders = photo_folders(args.photos)
        except VidsegError as error:
            raise SystemExit(str(error)) from None
        items, sequences = photo_items(args.photos), [f.name for f in folders]
    else:
        if not (args.data / "JPEGImages").is_dir() or not (args.data / "Annotations").is_dir():
            raise SystemExit(f"no DAVIS layout (JPEGImages/, Annotations/) at {args.data}; pass --data")
        missing = [s for s in sequences if not (args.data / "JPEGImages" / s).is_dir()]
        if missing:
            raise SystemExit(f"sequences not in {args.data / 'JPEGImages'}: {', '.join(missing)}")
        items = davis_items(args.data, sequences, args.every)
    if args.faint_grass and args.thin_parts is None:
        parser.error("--faint-grass draws over the frames; give --thin-parts SEED too")
    if args.thin_parts is not None:
        items = with_thin_parts(items, args.thin_parts, args.faint_grass)
    if ("other" in methods or "hybrid" in methods) and not args.other_model:
        raise SystemExit("the 'other' method needs --other-model")
    LABELS["other"] = args.other_label
    segmenters = make_segmenters(methods, args.model, args.previous_model, args.other_model, args.stretch,
                                 args.focus_zoom, args.thin_zoom)
    began = time.perf_counter()
    results = run_benchmark(items, segmenters, args.max_frames, None if args.all_clicks else STOP_AT)
    rows = [summarise(LABELS[name], runs) for name, runs in results.items() if runs]
    if not rows:
        raise SystemExit("no frame with an object of at least 100 pixels; check --sequences and --every")
    clipped = f", first {args.max_frames} such frames" if args.max_frames is not None else ""
    clipped += f", thin parts drawn (seed {args.thin_parts})" if args.thin_parts is not None else ""
    clipped += ", occluders only, grass faint" if args.faint_grass else ""
    where = (f"held-out photos (every 10th) of {', '.join(sequences)}" if args.photos is not None else
             f"{len(sequences)} sequences of {args.data.name}, every {args.every}th frame: {', '.join(sequences)}")
    print(f"{where}{clipped}; model: {args.model}; {time.perf_counter() - began:.0f} s")
    print(format_table(rows))
    if args.all_clicks:
        print(mean_iou_line(rows))
    if args.json:
        write_json(args.json, rows, results, args, sequences)


if __name__ == "__main__":
    main()
