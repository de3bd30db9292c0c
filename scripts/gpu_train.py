"""Train several vidseg networks at once on one GPU machine within a fixed wall-clock budget.

Run from the checkout's root on the GPU machine, after ``pack_training_data.py pack --out .devdata``
here has made the data travel with the checkout (see that script):

    python3 scripts/gpu_train.py --budget 420 --out $OUT

It unpacks the data, starts every run of ``RUNS`` for a few steps at once (the probe: it shows each
run's steps per second while they share the machine, and that each works on the GPU), then gives
each run as many steps as fit in ``--budget`` seconds at that rate (``fixed`` runs keep their own)
and runs them all at once again, each stopped by ``--minutes`` at the latest (a stopped run keeps its
state, which ``vidseg train`` resumes anywhere). Each run comes back as ``<name>.tgz``: its weights,
its log and, when it did not finish, its state.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    name: str
    model: str  # vos | interactive | tracker
    options: tuple[str, ...]  # beyond --data, --out, --steps, --batch-size, --scale, --device
    batch: int
    fixed_steps: int | None = None  # a recipe to reproduce exactly; else as many as fit the budget
    pretrain_share: float = 0.0  # of the steps, on photos only
    max_steps: int = 20000


PHOTOS = ("--photos", "{data}/static")
# The interactive card's phase 2 (docs/benchmarks.md, twenty-third session: about 10.5 steps a second
# each, three at once; the main process's click simulation, not the GPU, sets the pace).
PHASE2 = ("--focus-share", "0.35", "--click-rounds", "3", "--distill", "1.0", "--click-cues",
          "--lr", "3e-4", "--workers", "3", *PHOTOS, "--photo-split", "train")
FIT_START = ("--sequences", "fit", "--init", "training/interactive-lite2-fit-phase1-more.pt")
RUNS = (
    Run("interactive-fit-p2", "interactive", (*FIT_START, *PHASE2), 8, fixed_steps=2000),
    Run("interactive-fit-p2-long", "interactive", (*FIT_START, *PHASE2), 8),
    Run("interactive-train-p2-long", "interactive",
        ("--sequences", "train", "--init", "training/interactive-lite2-train-phase1.pt", *PHASE2), 8),
    Run("interactive-train", "interactive", ("--encoder", "lite0", "--sequences", "train", "--photo-split", "train",
                                             *PHOTOS, "--workers", "2"), 16, pretrain_share=0.3),
    Run("interactive-all", "interactive", ("--encoder", "lite0", "--sequences", "all", *PHOTOS, "--workers", "2"),
        16, pretrain_share=0.3),
    Run("tracker-train", "tracker", ("--encoder", "lite0", "--sequences", "train", "--photo-split", "train",
                                     *PHOTOS, "--workers", "2"), 32, pretrain_share=0.2),
    Run("tracker-all", "tracker", ("--encoder", "lite0", "--sequences", "all", *PHOTOS, "--workers", "2"), 32,
        pretrain_share=0.2),
    Run("vos-nophotos", "vos", ("--encoder", "lite0", "--sequences", "train", "--workers", "1"), 8, fixed_steps=4000),
    # The first phase of vos.pt's recipe on FIT, for choosing run-time settings on the TUNE clips.
    Run("vos-fit", "vos", ("--encoder", "lite0", "--sequences", "fit", *PHOTOS, "--workers", "1"), 8,
        fixed_steps=4000, pretrain_share=0.375),
    Run("vos-big-train", "vos", ("--encoder", "lite0", "--sequences", "train", *PHOTOS, "--workers", "2"), 16,
        pretrain_share=0.35),
    Run("vos-big-all", "vos", ("--encoder", "lite0", "--sequences", "all", *PHOTOS, "--workers", "2"), 16,
        pretrain_share=0.35),
)


def command(run: Run, data: Path, out: Path, steps: int, minutes: float | None, device: str) -> list[str]:
    options = [o.format(data=data) for o in run.options]
    pretrain = ["--pretrain-steps", str(int(run.pretrain_share * steps))] if run.pretrain_share else []
    stop = ["--minutes", f"{minutes:.2f}"] if minutes else []
    return [sys.executable, "-m", "vidseg.apps.cli", "train", run.model, "--data", str(data / "davis"),
            "--out", str(out / run.name / f"{run.model}.pt"), "--steps", str(steps), "--batch-size", str(run.batch),
            "--scale", "1", "--device", device, *options, *pretrain, *stop]


def launch_all(runs: tuple[Run, ...], steps: dict[str, int], data: Path, out: Path, minutes: float | None,
               device: str) -> dict[str, int]:
    """Start every run at once, wait for all; returns each run's exit status."""
    procs = {}
    for run in runs:
        (out / run.name).mkdir(parents=True, exist_ok=True)
        log = (out / run.name / "train.log").open("w")
        procs[run.name] = subprocess.Popen(command(run, data, out, steps[run.name], minutes, device),
                                           stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    return {name: proc.wait() for name, proc in procs.items()}


def rate(log: Path) -> float:
    """Steps per second between the second and the last logged step (the first holds the start-up)."""
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    if len(rows) < 2:
        return 0.0
    return (rows[-1]["step"] - rows[1]["step"]) / max(rows[-1]["seconds"] - rows[1]["seconds"], 1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=420, help="seconds of training for every run, at most")
    parser.add_argument("--deadline", type=float, default=560,
                        help="seconds from the start by which everything must be packed (the budget shrinks to fit)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--probe-steps", type=int, default=40)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--only", default="", help="comma-separated run names (default: all)")
    parser.add_argument("--smoke", action="store_true", help="batches of 2 and at most 30 steps: try the script")
    args = parser.parse_args()
    runs = tuple(r for r in RUNS if not args.only or r.name in args.only.split(","))
    if args.smoke:
        runs = tuple(replace(r, batch=2, max_steps=30, fixed_steps=r.fixed_steps and 30) for r in runs)
    data, work = Path("/tmp/vidseg-data"), Path("/tmp/vidseg-runs")
    os.environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{data / 'packed' / 'site'}"  # unpack puts data.zip there
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    started = time.time()
    subprocess.run([sys.executable, str(ROOT / "scripts" / "pack_training_data.py"), "unpack",
                    "--packed", str(ROOT / ".devdata"), "--out", str(data)], check=True)
    print(f"unpacked in {time.time() - started:.0f} s", flush=True)
    probe = launch_all(runs, {r.name: args.probe_steps for r in runs}, data, work / "probe", None, args.device)
    rates = {r.name: rate(work / "probe" / r.name / f"{r.model}.pt.log.jsonl") if probe[r.name] == 0 else 0.0
             for r in runs}
    print(f"probe done at {time.time() - started:.0f} s: " + json.dumps({n: round(v, 2) for n, v in rates.items()}),
          flush=True)
    for r in runs:
        if probe[r.name]:
            print(f"--- {r.name} failed the probe:\n" + (work / "probe" / r.name / "train.log").read_text()[-3000:])
    good = tuple(r for r in runs if probe[r.name] == 0)
    # What is left after the probe, less the real runs' start-up (no longer than the probe) and packing.
    budget = min(args.budget, args.deadline - 2 * (time.time() - started) - 30)
    steps = {r.name: r.fixed_steps or min(r.max_steps, max(100, int(0.9 * rates[r.name] * budget) // 100 * 100))
             for r in good}
    print(f"budget {budget:.0f} s, steps: " + json.dumps(steps), flush=True)
    codes = launch_all(good, steps, data, work / "real", budget / 60 + 0.25, args.device)
    print(f"trained at {time.time() - started:.0f} s: " + json.dumps(codes), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    for r in good:
        folder = work / "real" / r.name
        weights = folder / f"{r.model}.pt"
        with tarfile.open(args.out / f"{r.name}.tgz", "w:gz") as tar:
            for path in sorted(folder.iterdir()):
                if path.name != ".cache" and not (path.name.endswith(".state.pt") and weights.exists()):
                    tar.add(path, arcname=f"{r.name}/{path.name}")
        print(f"{r.name}: exit {codes[r.name]}, {'weights' if weights.exists() else 'state only'}; "
              + (folder / "train.log").read_text().strip().splitlines()[-1][-200:], flush=True)


if __name__ == "__main__":
    main()
