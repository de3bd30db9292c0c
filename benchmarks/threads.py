"""How many compute threads `vidseg segment` should use: FPS with 1 and 2 threads, on an idle
machine and beside 1 or 2 busy neighbour processes (each a Python loop that spins on one core).

Each (threads, neighbours) run is ``run_segment`` end to end (decode, network, PNG encode) in a
fresh spawned process, on one DAVIS sequence, after the neighbours have started. Run it on an
otherwise idle machine: the neighbours are the only load it should see.

    python benchmarks/threads.py                                  # car-turn, the shipped network
    python benchmarks/threads.py --model runs/vos-lite/vos.pt --sequence dog-agility
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from vidseg.apps.segment import SegmentJob
from vos_ablation import DEFAULT_ROOT, segment_in_fresh_process


def _spin(stop: multiprocessing.Event) -> None:
    while not stop.is_set():
        sum(range(10_000))


def measure(job: SegmentJob, neighbours: int) -> float:
    """FPS of ``job`` in a fresh process while ``neighbours`` spinning processes run."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    spinners = [context.Process(target=_spin, args=(stop,)) for _ in range(neighbours)]
    for process in spinners:
        process.start()
    time.sleep(0.5)
    try:
        return segment_in_fresh_process(job).fps
    finally:
        stop.set()
        for process in spinners:
            process.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="DAVIS-layout root")
    parser.add_argument("--sequence", default="car-turn")
    parser.add_argument("--model", default="default", help="vos checkpoint (default: the shipped one)")
    parser.add_argument("--neighbours", default="0,1,2", help="busy neighbour counts to try")
    args = parser.parse_args()
    frames = args.root / "JPEGImages" / args.sequence
    mask = sorted((args.root / "Annotations" / args.sequence).glob("*.png"))[0]
    counts = [int(n) for n in args.neighbours.split(",")]
    print(f"{args.sequence}, model {args.model}, {os.cpu_count()} cores, load before: {os.getloadavg()[0]:.2f}")
    print("| threads | " + " | ".join(f"FPS, {n} busy" for n in counts) + " |")
    print("|---|" + "---|" * len(counts))
    with tempfile.TemporaryDirectory() as tmp:
        for threads in (None, 1, 2):
            fps = []
            for n in counts:
                out = Path(tmp) / f"{threads}-{n}"
                job = SegmentJob(input=frames, mask=mask, out_dir=out, method=args.model, threads=threads,
                                 progress=False)
                fps.append(measure(job, n))
            label = "libraries' default" if threads is None else str(threads)
            print(f"| {label} | " + " | ".join(f"{v:.1f}" for v in fps) + " |")


if __name__ == "__main__":
    main()
