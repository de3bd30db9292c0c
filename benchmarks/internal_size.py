"""Speed of ``vidseg segment`` end to end at several internal heights of a preset (idle machine).

What a preset's internal height costs: each height runs the preset's pipeline (decode, network,
fusion, PNG writes) in a fresh process on the same clips. J&F is not measured here: heights are
ranked on training-split clips by ``benchmarks/tune_on_train_split.py``, and this picks the largest
that keeps the speed target.

    python benchmarks/internal_size.py --model vidseg/weights/vos-train-split.pt --heights 224,256,288
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from vidseg.engine.vos.presets import PRESETS
from vos_ablation import DEFAULT_ROOT, MODEL, RowSpec, segment_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="vos checkpoint")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="DAVIS-layout root")
    parser.add_argument("--sequences", default="bear,bus", help="comma-separated (default: %(default)s, 162 frames)")
    parser.add_argument("--preset", default="fast", choices=sorted(PRESETS))
    parser.add_argument("--heights", default="224,256,288", help="comma-separated internal heights")
    args = parser.parse_args()
    print(f"preset {args.preset}, model {args.model}, sequences {args.sequences}, "
          f"{os.cpu_count()} cores, load before {os.getloadavg()[0]:.2f}")
    print("| internal height | FPS end to end | peak MB |")
    with tempfile.TemporaryDirectory() as tmp:
        for height in (int(h) for h in args.heights.split(",")):
            row = RowSpec(f"{height} px", MODEL, replace(PRESETS[args.preset], internal_height=height))
            stats = segment_row(row, {MODEL: args.model}, args.root, args.sequences.split(","), Path(tmp))
            frames, seconds = sum(s.frames for s in stats), sum(s.seconds for s in stats)
            peak = max(s.peak_rss_mb for s in stats)
            print(f"| {height:15d} | {frames / seconds:14.1f} | {peak:7.0f} |", flush=True)


if __name__ == "__main__":
    main()
