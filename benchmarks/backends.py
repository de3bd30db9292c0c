"""torch vs ONNX Runtime on the same networks, one run: segment, click, track, and the encoder alone.

- ``segment`` (the ``fast`` preset, the train-split network): J&F on our validation sequences, FPS
  end to end (decode, networks, flow, PNG writes; start-up excluded) and peak memory, each
  (backend, sequence) in a fresh process (:func:`vos_ablation.segment_in_fresh_process`); seconds
  per frame with 1 and 3 objects on the rendered 854x480 clip of ``vos_ablation``.
- ``click`` (the train-split interactive network): on every ``--click-every``-th validation frame, the
  box and 5 protocol clicks; median first mask, median and 95th percentile per click, mean IoU after
  5 clicks (the backends should agree).
- ``track``: the polar tracker's FPS end to end (``vidseg track``'s pipeline) on the validation sequences.
- the VOS encoder alone on a 256x448 frame: torch, ONNX Runtime, and ONNX Runtime with the graph's
  weights quantised to int8 (``onnxruntime.quantization.quantize_dynamic``);
- ``int8``: ``segment`` on ONNX Runtime with that int8 encoder, its J&F on the validation sequences
  (to set beside the fp32 row of the segment table) and FPS (in one process).

Every run uses ``--threads`` compute threads (default 2, the machine's cores). Time on an idle machine.

    python benchmarks/backends.py
    python benchmarks/backends.py --sequences car-turn --click-every 40 --parts click,encoder   # a quick look
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vidseg.apps.segment import SegmentJob
from vidseg.apps.track import TrackJob, run_track
from vidseg.eval import evaluate_roots
from vidseg.eval.click_protocol import Clicker
from vidseg.eval.metrics import region_iou
from vidseg.eval.splits import VALIDATION
from vidseg.eval.tracking import mask_box
from vidseg.io.frames import open_frames
from vidseg.io.masks import read_mask
from vidseg.nn.registry import shipped_path
from vidseg.ops.boxes import Box

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vos_ablation import objects_clip, segment_in_fresh_process  # noqa: E402

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016-train"
BACKENDS = ("torch", "onnxruntime")


def segment_rows(root: Path, sequences: list[str], threads: int, tmp: Path) -> list[str]:
    model = str(shipped_path("vos", "train-split"))
    clip = objects_clip(tmp / "objects-clip")
    lines = ["| backend | J&F | J | F | FPS | peak MB | s/frame 1 object | s/frame 3 objects |", "|---|---|---|---|---|---|---|---|"]
    for backend in BACKENDS:
        stats = []
        for seq in sequences:
            first = sorted((root / "Annotations" / seq).glob("*.png"))[0]
            stats.append(segment_in_fresh_process(SegmentJob(
                root / "JPEGImages" / seq, first, tmp / backend / seq, method=model, progress=False,
                threads=threads, backend=backend)))
        scores = evaluate_roots(root / "Annotations", tmp / backend, sequences=sequences).to_json()
        per_frame = []
        for name, mask in (("1", clip[1]), ("3", clip[2])):
            s = segment_in_fresh_process(SegmentJob(clip[0], mask, tmp / "objects" / backend / name, method=model,
                                                    progress=False, threads=threads, backend=backend))
            per_frame.append(s.seconds / s.frames)
        fps = sum(s.frames for s in stats) / sum(s.seconds for s in stats)
        lines.append(f"| {backend} | {scores['J&F']:.1f} | {scores['J']:.1f} | {scores['F']:.1f} | {fps:.1f} "
                     f"| {max(s.peak_rss_mb for s in stats):.0f} | {per_frame[0]:.3f} | {per_frame[1]:.3f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def box_of(mask: np.ndarray) -> Box:
    return Box.from_xywh(*mask_box(mask))


def click_rows(root: Path, sequences: list[str], every: int, threads: int) -> list[str]:
    import torch

    from vidseg.engine.interactive.click_segmenter import ClickSegmenter

    torch.set_num_threads(threads)
    items = []
    for seq in sequences:
        with open_frames(root / "JPEGImages" / seq) as frames:
            for i in range(0, len(frames), every):
                gt = read_mask(root / "Annotations" / seq / f"{frames.stems[i]}.png").labels > 0
                if gt.sum() >= 100:
                    items.append((frames.read(i), gt))
    lines = ["| backend | frames | IoU after 5 clicks | first mask ms | click ms median | click ms p95 |",
             "|---|---|---|---|---|---|"]
    for backend in BACKENDS:
        segmenter = ClickSegmenter("train-split", backend=backend)
        segmenter.start(items[0][0], box=box_of(items[0][1]))  # warm-up, untimed
        first, clicks, ious = [], [], []
        for image, gt in items:
            started = time.perf_counter()
            mask = segmenter.start(image, box=box_of(gt))
            first.append(time.perf_counter() - started)
            clicker = Clicker(gt)
            for _ in range(5):
                click = clicker.next(mask)
                if click is None:
                    break
                started = time.perf_counter()
                mask = segmenter.click(click.x, click.y, click.positive)
                clicks.append(time.perf_counter() - started)
            ious.append(region_iou(mask, gt))
        lines.append(f"| {backend} | {len(items)} | {100 * np.mean(ious):.1f} | {1000 * statistics.median(first):.0f} "
                     f"| {1000 * statistics.median(clicks):.1f} | {1000 * np.percentile(clicks, 95):.1f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def track_rows(root: Path, sequences: list[str], threads: int, tmp: Path) -> list[str]:
    lines = ["| backend | frames | FPS |", "|---|---|---|"]
    for backend in BACKENDS:
        frames = seconds = 0.0
        for seq in sequences:
            first = sorted((root / "Annotations" / seq).glob("*.png"))[0]
            box = box_of(read_mask(first).labels > 0)
            stats = run_track(TrackJob(root / "JPEGImages" / seq, box, tmp / "track" / backend / seq, progress=False,
                                       threads=threads, backend=backend))
            frames, seconds = frames + stats.frames, seconds + stats.seconds
        lines.append(f"| {backend} | {int(frames)} | {frames / seconds:.1f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def encoder_graphs(folder: Path, model: str) -> tuple[object, Path, Path]:
    """The VOS encoder part of ``model``, its graph (fp32) and the graph with int8 weights
    (``quantize_dynamic``), written in ``folder``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from vidseg.nn.graphs import network_parts
    from vidseg.nn.onnx_export import export_part
    from vidseg.nn.registry import load_model

    encode = network_parts("vos", load_model("vos", model))[0]
    fp32, int8 = folder / "encode.onnx", folder / "encode-int8.onnx"
    export_part(encode, fp32)
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QUInt8)
    return encode, fp32, int8


def int8_rows(root: Path, sequences: list[str], threads: int, tmp: Path) -> list[str]:
    """``segment`` (fast) on ONNX Runtime with the encoder's weights quantised to int8: J&F and FPS,
    in this process (the quantised graph replaces the encoder of the cached stand-in)."""
    import onnxruntime as ort
    import torch

    from vidseg.apps.segment import run_segment
    from vidseg.nn.registry import load_model

    torch.set_num_threads(threads)
    model = str(shipped_path("vos", "train-split"))
    stand_in = load_model("vos", model, "onnxruntime")
    _, _, int8 = encoder_graphs(tmp, model)
    stand_in._encode.session = ort.InferenceSession(str(int8), stand_in._encode.session.get_session_options(),
                                                    providers=["CPUExecutionProvider"])
    stats = []
    for seq in sequences:
        first = sorted((root / "Annotations" / seq).glob("*.png"))[0]
        stats.append(run_segment(SegmentJob(root / "JPEGImages" / seq, first, tmp / "int8" / seq, method=model,
                                            progress=False, threads=threads, backend="onnxruntime")))
    scores = evaluate_roots(root / "Annotations", tmp / "int8", sequences=sequences).to_json()
    fps = sum(s.frames for s in stats) / sum(s.seconds for s in stats)
    return ["| segment, onnxruntime with an int8 encoder | J&F | J | F | FPS (in one process) |", "|---|---|---|---|---|",
            f"| int8 encoder | {scores['J&F']:.1f} | {scores['J']:.1f} | {scores['F']:.1f} | {fps:.1f} |"]


def encoder_rows(threads: int, repeats: int = 30) -> list[str]:
    import onnxruntime as ort
    import torch

    torch.set_num_threads(threads)
    image = torch.rand(1, 3, 256, 448)
    with tempfile.TemporaryDirectory() as tmp:
        encode, fp32, int8 = encoder_graphs(Path(tmp), "train-split")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        runs = {"torch": lambda: encode.module(image)}
        for name, path in (("onnxruntime", fp32), ("onnxruntime int8", int8)):
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            runs[name] = lambda s=session: s.run(None, {"image": image.numpy()})
        lines = ["| encoder on 256x448 | ms per frame |", "|---|---|"]
        with torch.no_grad():
            for name, run in runs.items():
                for _ in range(3):
                    run()
                started = time.perf_counter()
                for _ in range(repeats):
                    run()
                lines.append(f"| {name} | {1000 * (time.perf_counter() - started) / repeats:.1f} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_ROOT, help="DAVIS-layout root (default: %(default)s)")
    parser.add_argument("--sequences", default=",".join(VALIDATION), help="comma-separated (default: our validation split)")
    parser.add_argument("--click-every", type=int, default=20, help="every N-th frame for click (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="compute threads for every run (default: %(default)s)")
    parser.add_argument("--parts", default="segment,click,track,encoder,int8", help="which tables (default: all)")
    args = parser.parse_args()
    sequences, parts = args.sequences.split(","), args.parts.split(",")
    print(f"load average at start: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; threads {args.threads}")
    began = time.perf_counter()
    out = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp:
        if "segment" in parts:
            print("segment (fast preset, train-split network):", *segment_rows(args.data, sequences, args.threads, Path(tmp)),
                  sep="\n", file=out)
        if "click" in parts:
            print("\nclick (train-split network):", *click_rows(args.data, sequences, args.click_every, args.threads),
                  sep="\n", file=out)
        if "track" in parts:
            print("\ntrack:", *track_rows(args.data, sequences, args.threads, Path(tmp)), sep="\n", file=out)
        if "encoder" in parts:
            print("\nthe VOS encoder alone:", *encoder_rows(args.threads), sep="\n", file=out)
        if "int8" in parts:  # last: it changes this process's cached ONNX Runtime network
            print("\nint8 encoder, J&F cost:", *int8_rows(args.data, sequences, args.threads, Path(tmp)), sep="\n", file=out)
    print(out.getvalue() + f"\n{time.perf_counter() - began:.0f} s; load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
