"""The ablation table of the propagation network: what each component adds, all rows from one run.

Rows (:data:`ROWS`): the flow baseline; the previous network (``--baseline-model``, by default the
previous default's train-split twin) with the ``fast`` preset as it shipped with it (224 px); photo
pre-training, without vs with (the first phase of the network's recipe trained both ways, alone, with
``--no-photos-model`` and ``--photos-model``); the network alone (no flow fusion, no online adaptation, no preset frame, ``fast`` sizes); then fusion,
adaptation and the preset frame added one at a time; the ``fast`` and ``quality`` presets as shipped (and ``quality`` as it was before test-time mirroring: 336 px, not mirrored). Columns: J&F,
J, F, flicker (:mod:`vidseg.eval.flicker`; the ground truth's flicker is the floor), FPS end to end
(:func:`vidseg.apps.segment.run_segment`: decode, method, PNG encode; start-up excluded), peak
memory, and seconds per frame with 1 and with 3 objects: DAVIS 2016 clips hold one object, so these
two come from a rendered 854x480 clip of three objects, prompted with the first one or all three.

Each (row, sequence) runs in a fresh spawned process, so peak memory is that run's own: the
process's VmHWM (Linux), not ``ru_maxrss``, which after fork + exec still holds the parent's peak.
The parent then scores J and F, and flicker with one set of flows per sequence shared by all rows.

    python benchmarks/vos_ablation.py                            # our validation sequences
    python benchmarks/vos_ablation.py --sequences dog-agility --frames 8 --rows "flow baseline,full fast"
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from vidseg.apps.segment import SegmentJob, SegmentStats, run_segment
from vidseg.data import ClipConfig, render_clip, write_clip
from vidseg.engine.vos.adapt import AdaptConfig
from vidseg.engine.vos.memory_policy import MemoryConfig
from vidseg.engine.vos.presets import PRESETS, PropagatorConfig
from vidseg.errors import VidsegError
from vidseg.eval import evaluate_roots
from vidseg.eval.flicker import FLICKER_FLOW, SequenceFlows, sequence_flicker
from vidseg.eval.splits import VALIDATION
from vidseg.flow.fusion import FusionConfig
from vidseg.io.frames import IMAGE_EXTENSIONS, natural_sort_key
from vidseg.io.masks import write_index_png
from vidseg.nn.registry import REGISTRY, weights_dir

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016-train"
MODEL = "<model>"  # a row's method that stands for the --model checkpoint
BASELINE_MODEL = "<baseline-model>"  # ... and for the --baseline-model checkpoint (the network before)
# The first phase of MODEL's recipe trained without and with photos (--no-photos-model, --photos-model).
NO_PHOTOS_MODEL, PHOTOS_MODEL = "<no-photos-model>", "<photos-model>"
GROUND_TRUTH = "ground truth"


class RowSpec(NamedTuple):
    """One row of the table: label, method (a baseline name, :data:`MODEL` or :data:`BASELINE_MODEL`),
    network settings or None."""

    label: str
    method: str
    config: PropagatorConfig | None


def _component_configs() -> dict[str, PropagatorConfig]:
    """The network alone, then fusion, adaptation (on the prompted frame) and the preset frame
    (seed 000: T = 10, r = 0.8) added in turn; explicit, so rows do not move with the presets."""
    fast = PRESETS["fast"]
    alone = replace(fast, fusion=None, adapt=AdaptConfig(enabled=False, every=0),
                    memory=MemoryConfig(preset_frame=False))
    fusion = replace(alone, fusion=FusionConfig(flow_mode="fast"))
    adaptation = replace(fusion, adapt=AdaptConfig(enabled=True, every=0))
    return {"alone": alone, "fusion": fusion, "adaptation": adaptation,
            "preset frame": replace(adaptation, memory=MemoryConfig(preset_frame=True))}


_STEPS = _component_configs()
ROWS: list[RowSpec] = [
    RowSpec("flow baseline", "flow", None),
    RowSpec("previous network (fast)", BASELINE_MODEL, replace(PRESETS["fast"], internal_height=224)),  # as it shipped
    RowSpec("phase 1 without photos, alone", NO_PHOTOS_MODEL, _STEPS["alone"]),
    RowSpec("phase 1 with photos, alone", PHOTOS_MODEL, _STEPS["alone"]),
    RowSpec("network alone", MODEL, _STEPS["alone"]),
    RowSpec("+ fusion", MODEL, _STEPS["fusion"]),
    RowSpec("+ adaptation", MODEL, _STEPS["adaptation"]),
    RowSpec("+ preset frame", MODEL, _STEPS["preset frame"]),
    RowSpec("full fast", MODEL, PRESETS["fast"]),
    RowSpec("quality before (336 px, no mirroring)", MODEL, replace(PRESETS["quality"], internal_height=336, mirror=False)),
    RowSpec("full quality", MODEL, PRESETS["quality"]),
]


@dataclass
class RowResult:
    """Scores of one row over the sequences (percent; flicker is the mean over sequences)."""

    label: str
    method: str
    jf: float
    j: float
    f: float
    flicker: float
    fps: float
    peak_mb: float
    s_per_frame_1: float
    s_per_frame_3: float
    jf_per_sequence: dict[str, float]
    flicker_per_sequence: dict[str, float]


def row_dir_name(label: str) -> str:
    """A folder name for a row's masks: "+ preset frame" -> "preset-frame"."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def resolve_method(row: RowSpec, models: dict[str, Path]) -> str:
    """The method name or checkpoint path the row runs; ``models`` maps the placeholders to paths."""
    return str(models[row.method]) if row.method in models else row.method


# --- segmentation, one fresh process per (row, sequence) -------------------------------------------


def segment_in_this_process(job: SegmentJob) -> SegmentStats:
    """Run one job; top level so that a spawned process can import it. Its peak memory is this
    process's own (``run_segment`` reads VmHWM, which exec resets, unlike ru_maxrss)."""
    return run_segment(job)


def segment_in_fresh_process(job: SegmentJob) -> SegmentStats:
    """Run ``job`` in a new spawned interpreter that does only this job."""
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(segment_in_this_process, (job,))


def segment_row(row: RowSpec, models: dict[str, Path], root: Path, sequences: list[str],
                out_root: Path) -> list[SegmentStats]:
    """Segment every sequence with one row's method, from its first annotation; masks in out_root/<row>/<seq>."""
    method = resolve_method(row, models)
    stats = []
    for seq in sequences:
        first_mask = sorted((root / "Annotations" / seq).glob("*.png"))[0]
        job = SegmentJob(input=root / "JPEGImages" / seq, mask=first_mask,
                         out_dir=out_root / row_dir_name(row.label) / seq, method=method,
                         network_config=row.config, progress=False,
                         backend="torch")  # the table's backend; benchmarks/backends.py compares ONNX Runtime
        try:
            stats.append(segment_in_fresh_process(job))
        except VidsegError as error:
            raise SystemExit(f"{row.label} failed on {seq}: {error}") from error
    return stats


# --- scoring ---------------------------------------------------------------------------------------


def flicker_by_sequence(root: Path, sequences: list[str], mask_roots: dict[str, Path]) -> dict[str, dict[str, float]]:
    """Flicker (percent) of each mask root's masks per sequence: {name: {sequence: flicker}}.

    The flows of a sequence are computed once, used for every mask root, and dropped before the next.
    """
    result: dict[str, dict[str, float]] = {name: {} for name in mask_roots}
    for seq in sequences:
        frames = root / "JPEGImages" / seq
        flows = SequenceFlows(frames, FLICKER_FLOW)
        for name, mask_root in mask_roots.items():
            result[name][seq] = sequence_flicker(frames, mask_root / seq, flows)
    return result


def objects_clip(dest: Path, frames: int = 40) -> tuple[Path, Path, Path]:
    """A rendered 854x480 clip of three objects under ``dest``: (frames folder, first mask with
    object 1 only, first mask with all three)."""
    clip = render_clip(ClipConfig(height=480, width=854, num_frames=frames, num_objects=3, seed=7))
    images = write_clip(clip, dest, "objects")
    one = dest / "first-object-1.png"
    write_index_png(one, np.where(clip.labels[0] == 1, 1, 0).astype(np.uint8))
    return images, one, dest / "Annotations" / "objects" / "00000.png"


def objects_timing(row: RowSpec, models: dict[str, Path], clip: tuple[Path, Path, Path],
                   out_root: Path) -> tuple[float, float]:
    """Seconds per frame of ``row`` on the objects clip with 1 and with 3 objects prompted."""
    images, one, three = clip
    seconds = []
    for name, mask in (("1", one), ("3", three)):
        job = SegmentJob(input=images, mask=mask, out_dir=out_root / "objects" / row_dir_name(row.label) / name,
                         method=resolve_method(row, models), network_config=row.config, progress=False,
                         backend="torch")
        stats = segment_in_fresh_process(job)
        seconds.append(stats.seconds / stats.frames)
    return seconds[0], seconds[1]


def score_row(row: RowSpec, method: str, stats: list[SegmentStats], root: Path, sequences: list[str],
              masks: Path, flicker: dict[str, float], timing: tuple[float, float]) -> RowResult:
    """J, F, J&F of ``masks`` (one folder per sequence), with the run's speed and flicker per sequence."""
    scores = evaluate_roots(root / "Annotations", masks, sequences=sequences).to_json()
    frames = sum(s.frames for s in stats)
    seconds = sum(s.seconds for s in stats)
    return RowResult(
        label=row.label, method=method, jf=scores["J&F"], j=scores["J"], f=scores["F"],
        flicker=float(np.mean([flicker[seq] for seq in sequences])), fps=frames / max(seconds, 1e-9),
        peak_mb=max(s.peak_rss_mb for s in stats), s_per_frame_1=timing[0], s_per_frame_3=timing[1],
        jf_per_sequence={seq: scores["sequences"][seq]["J&F"] for seq in sequences},
        flicker_per_sequence=dict(flicker),
    )


def run_ablation(rows: list[RowSpec], models: dict[str, Path], root: Path, sequences: list[str],
                 out_root: Path) -> tuple[list[RowResult], dict[str, float]]:
    """Segment with every row, then score them all; returns the rows and the ground truth's flicker per sequence."""
    stats = {row.label: segment_row(row, models, root, sequences, out_root) for row in rows}
    clip = objects_clip(out_root / "objects-clip")
    timing = {row.label: objects_timing(row, models, clip, out_root) for row in rows}
    mask_roots = {GROUND_TRUTH: root / "Annotations", **{r.label: out_root / row_dir_name(r.label) for r in rows}}
    flicker = flicker_by_sequence(root, sequences, mask_roots)
    results = [score_row(r, resolve_method(r, models), stats[r.label], root, sequences, mask_roots[r.label],
                         flicker[r.label], timing[r.label]) for r in rows]
    return results, flicker[GROUND_TRUTH]


# --- data ------------------------------------------------------------------------------------------


def first_frames_layout(root: Path, sequences: list[str], n_frames: int, dest: Path) -> Path:
    """A DAVIS layout under ``dest`` of symlinks to the first ``n_frames`` frames (and their masks)."""
    for seq in sequences:
        frames = sorted((p for p in (root / "JPEGImages" / seq).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS),
                        key=lambda p: natural_sort_key(p.stem))[:n_frames]
        for kind, paths in (("JPEGImages", frames),
                            ("Annotations", [root / "Annotations" / seq / f"{p.stem}.png" for p in frames])):
            folder = dest / kind / seq
            folder.mkdir(parents=True)
            for path in paths:
                if not path.is_file():
                    raise SystemExit(f"{seq}: {path} is missing; every frame needs its annotation")
                (folder / path.name).symlink_to(path.resolve())
    return dest


def check_inputs(root: Path, sequences: list[str], rows: list[RowSpec], models: dict[str, Path]) -> None:
    if not (root / "JPEGImages").is_dir() or not (root / "Annotations").is_dir():
        raise SystemExit(f"no DAVIS layout (JPEGImages/, Annotations/) at {root}; pass --root")
    missing = [s for s in sequences if not (root / "JPEGImages" / s).is_dir()]
    if missing:
        raise SystemExit(f"sequences not in {root / 'JPEGImages'}: {', '.join(missing)}")
    for placeholder, flag in ((MODEL, "--model"), (BASELINE_MODEL, "--baseline-model"),
                              (NO_PHOTOS_MODEL, "--no-photos-model"), (PHOTOS_MODEL, "--photos-model")):
        if any(r.method == placeholder for r in rows) and not (models.get(placeholder) or Path("")).is_file():
            raise SystemExit(f"no checkpoint at {models[placeholder]}; pass {flag} or leave its rows out with --rows")


def select_rows(labels: str | None) -> list[RowSpec]:
    if labels is None:
        return list(ROWS)
    by_label = {r.label: r for r in ROWS}
    wanted = [label.strip() for label in labels.split(",") if label.strip()]
    unknown = [label for label in wanted if label not in by_label]
    if unknown:
        raise SystemExit(f"unknown rows: {', '.join(unknown)}; choose from: {', '.join(by_label)}")
    return [by_label[label] for label in wanted]


# --- report ----------------------------------------------------------------------------------------


def format_table(rows: list[RowResult], gt_flicker: dict[str, float], sequences: list[str]) -> str:
    width = max(len(GROUND_TRUTH), *(len(r.label) for r in rows))
    head = (f"| {'row':<{width}} | {'J&F':>5} | {'J':>5} | {'F':>5} | {'flicker':>7} | {'FPS':>6} | {'peak MB':>7} "
            f"| {'s/frame, 1 obj':>14} | {'3 obj':>5} |")
    lines = [head, "|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|"]
    for r in rows:
        lines.append(f"| {r.label:<{width}} | {r.jf:5.1f} | {r.j:5.1f} | {r.f:5.1f} | {r.flicker:7.1f} "
                     f"| {r.fps:6.1f} | {r.peak_mb:7.0f} | {r.s_per_frame_1:14.3f} | {r.s_per_frame_3:5.3f} |")
    gt_mean = float(np.mean([gt_flicker[s] for s in sequences]))
    lines.append(f"| {GROUND_TRUTH:<{width}} | {'-':>5} | {'-':>5} | {'-':>5} | {gt_mean:7.1f} | {'-':>6} | {'-':>7} "
                 f"| {'-':>14} | {'-':>5} |")
    labels = " / ".join(r.label for r in rows)
    lines += ["", f"J&F per sequence ({labels}): " + "; ".join(
        f"{seq} " + " / ".join(f"{r.jf_per_sequence[seq]:.1f}" for r in rows) for seq in sequences)]
    lines.append(f"flicker per sequence ({labels} / {GROUND_TRUTH}): " + "; ".join(
        f"{seq} " + " / ".join(f"{v:.1f}" for v in [*(r.flicker_per_sequence[seq] for r in rows), gt_flicker[seq]])
        for seq in sequences))
    return "\n".join(lines)


def write_json(path: Path, rows: list[RowResult], gt_flicker: dict[str, float], args: argparse.Namespace,
               sequences: list[str]) -> None:
    data = {
        "root": str(args.root), "sequences": sequences, "frames": args.frames, "model": str(args.model), "baseline_model": str(args.baseline_model),
        "no_photos_model": str(args.no_photos_model), "photos_model": str(args.photos_model),
        "flicker_flow": asdict(FLICKER_FLOW), "rows": [asdict(r) for r in rows],
        GROUND_TRUTH: {"flicker": float(np.mean(list(gt_flicker.values()))), "flicker_per_sequence": gt_flicker},
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="DAVIS-layout root (JPEGImages/, Annotations/)")
    parser.add_argument("--sequences", default=",".join(VALIDATION), help="comma-separated (default: our validation split)")
    parser.add_argument("--model", type=Path, default=weights_dir() / REGISTRY["vos"].weights["train-split"].file,
                        help="vos checkpoint for the network rows (default: the shipped train-split one, "
                             "which never saw the validation clips)")
    parser.add_argument("--baseline-model", type=Path,
                        default=weights_dir() / REGISTRY["vos"].weights["separable-train-split"].file,
                        help="the network to compare with, its full fast row (default: the previous default's "
                             "train-split twin, vos-separable-train-split.pt)")
    parser.add_argument("--no-photos-model", type=Path,
                        help="the photo pre-training rows: MODEL's first phase trained without photos (vidseg train "
                             "vos --sequences train --encoder lite0 --steps 4000; without it, and without --rows, "
                             "those two rows are left out)")
    parser.add_argument("--photos-model", type=Path, help="... and the same with --photos --pretrain-steps 1500")
    parser.add_argument("--rows", help=f"comma-separated row labels (default: all: {', '.join(r.label for r in ROWS)})")
    parser.add_argument("--frames", type=int, help="only the first N frames of each sequence (N >= 3; smoke tests)")
    parser.add_argument("--out", type=Path, help="keep the masks here, in <row>/<sequence> (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    if args.frames is not None and args.frames < 3:
        parser.error("--frames must be >= 3: evaluation skips the first and last frame")
    return args


def main() -> None:
    args = parse_args()
    sequences = [s.strip() for s in args.sequences.split(",") if s.strip()]
    models = {MODEL: args.model.resolve(), BASELINE_MODEL: args.baseline_model.resolve()}
    models.update({k: v.resolve() for k, v in ((NO_PHOTOS_MODEL, args.no_photos_model),
                                                (PHOTOS_MODEL, args.photos_model)) if v is not None})
    rows = select_rows(args.rows)
    if args.rows is None:  # the photo rows only where both of their networks are given
        rows = [r for r in rows if r.method not in (NO_PHOTOS_MODEL, PHOTOS_MODEL)
                or {NO_PHOTOS_MODEL, PHOTOS_MODEL} <= models.keys()]
    check_inputs(args.root, sequences, rows, models)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root
        if args.frames is not None:
            root = first_frames_layout(args.root, sequences, args.frames, Path(tmp) / "data")
        out_root = args.out or Path(tmp) / "masks"
        results, gt_flicker = run_ablation(rows, models, root, sequences, out_root)
    clipped = f", first {args.frames} frames each" if args.frames is not None else ""
    print(f"{len(sequences)} sequences of {args.root.name}{clipped}: {', '.join(sequences)}")
    print(f"model: {args.model}; previous network: {args.baseline_model}; flicker flow: DIS {FLICKER_FLOW.mode} at scale {FLICKER_FLOW.scale}")
    print(format_table(results, gt_flicker, sequences))
    if args.json:
        write_json(args.json, results, gt_flicker, args, sequences)


if __name__ == "__main__":
    main()
