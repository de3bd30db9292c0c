"""Endpoint error and speed of vidseg's DIS presets on the Middlebury pairs with ground truth.

Prints, per pair, the mean endpoint error (pixels) of each preset beside a zero-flow baseline, the
mean over pairs, and milliseconds per pair (grey conversion plus DIS, median of --repeat runs after a
warm-up), all measured in this run.

    python benchmarks/flow_middlebury.py
    python benchmarks/flow_middlebury.py --scale 0.5 --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from vidseg.flow import DIS_MODES, FlowConfig, dense_flow, endpoint_error, load_middlebury_pairs

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "flow" / "middlebury"


def time_ms(pairs, config: FlowConfig, repeat: int) -> float:
    """Median over ``repeat`` runs of the mean milliseconds per pair."""
    dense_flow(pairs[0].frame10, pairs[0].frame11, config)  # warm-up: creates the DIS object
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for pair in pairs:
            dense_flow(pair.frame10, pair.frame11, config)
        runs.append(1000 * (time.perf_counter() - start) / len(pairs))
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="Middlebury 'other' folder")
    parser.add_argument("--scale", type=float, default=1.0, help="FlowConfig.scale for every preset")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per preset")
    args = parser.parse_args()

    import cv2

    pairs = load_middlebury_pairs(args.root)
    configs = {p: FlowConfig(p, args.scale) for p in DIS_MODES}
    epe = {"zero": [endpoint_error(np.zeros_like(q.gt), q.gt) for q in pairs]}
    for name, config in configs.items():
        epe[name] = [endpoint_error(dense_flow(q.frame10, q.frame11, config), q.gt) for q in pairs]
    ms = {name: time_ms(pairs, config, args.repeat) for name, config in configs.items()}

    cols = list(epe)
    print(f"Middlebury EPE (px), {len(pairs)} pairs, scale {args.scale}, OpenCV {cv2.__version__}, "
          f"{cv2.getNumThreads()} threads")
    print(f"{'pair':<12} {'size':>8}" + "".join(f"{c:>10}" for c in cols))
    for i, pair in enumerate(pairs):
        size = f"{pair.gt.shape[1]}x{pair.gt.shape[0]}"
        print(f"{pair.name:<12} {size:>8}" + "".join(f"{epe[c][i]:>10.3f}" for c in cols))
    print(f"{'mean EPE':<21}" + "".join(f"{np.mean(epe[c]):>10.3f}" for c in cols))
    print(f"{'ms / pair':<21}{'-':>10}" + "".join(f"{ms[c]:>10.1f}" for c in configs))


if __name__ == "__main__":
    main()
