"""J&F, J, F, FPS and peak memory of vidseg methods on a DAVIS-layout root, all in one run.

Each method segments each sequence through the real CLI in a fresh process (``vidseg segment
--stats``), so FPS is end to end (decode, method, PNG encode) and peak memory is that process's own.

    python benchmarks/davis.py                       # static and flow on our validation sequences
    python benchmarks/davis.py --methods flow --sequences bear,boat --json out/bench.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vidseg.eval import evaluate_roots
from vidseg.eval.splits import VALIDATION

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016-train"


@dataclass
class MethodRow:
    method: str
    jf: float
    j: float
    f: float
    fps: float
    peak_mb: float
    per_sequence: dict[str, float]


def segment_sequence(root: Path, seq: str, method: str, out_root: Path) -> dict:
    """Run the CLI on one sequence; returns its --stats JSON."""
    annotations = sorted((root / "Annotations" / seq).glob("*.png"))
    cmd = [sys.executable, "-m", "vidseg.apps.cli", "segment", str(root / "JPEGImages" / seq),
           "--mask", str(annotations[0]), "-o", str(out_root / method / seq), "--method", method,
           "--stats", "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{method} failed on {seq}: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def benchmark_method(root: Path, sequences: list[str], method: str, out_root: Path) -> MethodRow:
    stats = [segment_sequence(root, seq, method, out_root) for seq in sequences]
    scores = evaluate_roots(root / "Annotations", out_root / method, sequences=sequences).to_json()
    frames = sum(s["frames"] for s in stats)
    seconds = sum(s["seconds"] for s in stats)
    per_seq = {name: seq["J&F"] for name, seq in scores["sequences"].items()}
    return MethodRow(method, scores["J&F"], scores["J"], scores["F"], frames / seconds,
                     max(s["peak_rss_mb"] for s in stats), per_seq)


def format_rows(rows: list[MethodRow], sequences: list[str]) -> str:
    head = f"| {'method':<8} | {'J&F':>5} | {'J':>5} | {'F':>5} | {'FPS':>6} | {'peak MB':>7} |"
    lines = [head, "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
    for r in rows:
        lines.append(f"| {r.method:<8} | {r.jf:5.1f} | {r.j:5.1f} | {r.f:5.1f} | {r.fps:6.1f} | {r.peak_mb:7.0f} |")
    lines.append("")
    lines.append("J&F per sequence: " + "; ".join(
        f"{seq} " + "/".join(f"{r.per_sequence[seq]:.1f}" for r in rows) for seq in sequences))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="DAVIS-layout root (JPEGImages/, Annotations/)")
    parser.add_argument("--sequences", default=",".join(VALIDATION), help="comma-separated (default: our validation split)")
    parser.add_argument("--methods", default="static,flow", help="comma-separated method names")
    parser.add_argument("--out", type=Path, help="keep the predicted masks here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    if not (args.root / "JPEGImages").is_dir():
        raise SystemExit(f"no DAVIS layout at {args.root}; pass --root")
    sequences = args.sequences.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        out_root = args.out or Path(tmp)
        rows = [benchmark_method(args.root, sequences, m, out_root) for m in args.methods.split(",")]
    print(f"{len(sequences)} sequences of {args.root.name}: {', '.join(sequences)}")
    print(format_rows(rows, sequences))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=2))


if __name__ == "__main__":
    main()
