"""What extra objects cost: seconds per frame of ``vidseg segment`` with 1 and with 3 objects.

DAVIS 2016 clips hold one object, so this renders an 854x480 clip of three objects (the one of
``benchmarks/vos_ablation.py``) and prompts the first object or all three, each run in a fresh
process, alternating, ``--repeat`` times; it prints the median of each and their ratio (the issue's
target: three objects at most 1.6x one). Single runs vary by about 10% on a 2-core machine, hence
the repeats.

    python benchmarks/objects_cost.py --model vidseg/weights/vos-train-split.pt --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from vidseg.engine.vos.presets import PRESETS
from vidseg.nn.registry import shipped_path
from vos_ablation import RowSpec, objects_clip, objects_timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=shipped_path("vos", "train-split"), help="vos checkpoint")
    parser.add_argument("--preset", default="fast", choices=["fast", "quality"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"model {args.model}, preset {args.preset}, {os.cpu_count()} cores, load before {os.getloadavg()[0]:.2f}")
    row = RowSpec(args.preset, str(args.model), PRESETS[args.preset])
    seconds: dict[str, list[float]] = {"1": [], "3": []}
    with tempfile.TemporaryDirectory() as tmp:
        clip = objects_clip(Path(tmp) / "clip")
        for rep in range(args.repeat):
            one, three = objects_timing(row, {}, clip, Path(tmp) / f"run-{rep}")
            seconds["1"].append(one)
            seconds["3"].append(three)
    one_s, three_s = statistics.median(seconds["1"]), statistics.median(seconds["3"])
    runs = "; ".join(f"{k} object(s): " + ", ".join(f"{v:.3f}" for v in vals) for k, vals in seconds.items())
    print(f"s/frame, median of {args.repeat}: 1 object {one_s:.3f}, 3 objects {three_s:.3f}, ratio {three_s / one_s:.2f} ({runs})")


if __name__ == "__main__":
    main()
