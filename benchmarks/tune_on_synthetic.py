"""Compare network settings on rendered clips: data that is neither training nor validation.

Settings are chosen here, so that the validation sequences stay untouched until the final table.

    python benchmarks/tune_on_synthetic.py --model runs/vos-train/vos.pt --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from vidseg.apps.segment import SegmentJob, run_segment
from vidseg.data import ClipConfig, render_clip, write_clip
from vidseg.engine.vos.adapt import AdaptConfig
from vidseg.engine.vos.memory_policy import MemoryConfig
from vidseg.engine.vos.presets import PRESETS, with_switches
from vidseg.eval import evaluate_roots
from vidseg.flow.fusion import FusionConfig

FAST, QUALITY = PRESETS["fast"], PRESETS["quality"]
_FIRST_ONLY = replace(AdaptConfig(), every=0)
_PRESET = MemoryConfig(preset_frame=True)
VARIANTS = {
    "fast": FAST,
    "fast + adapt first frame": replace(FAST, adapt=_FIRST_ONLY),
    "fast + preset frame": replace(FAST, memory=_PRESET),
    "fast + both": replace(FAST, adapt=_FIRST_ONLY, memory=_PRESET),
    "quality": QUALITY,
    "quality + both": replace(QUALITY, adapt=_FIRST_ONLY, memory=_PRESET),
    "network alone": with_switches(FAST, adapt=False, fusion=False),
    "+ fusion": with_switches(FAST, adapt=False, fusion=True),
    "+ adapt every 5": replace(FAST, adapt=AdaptConfig()),
    "+ adapt (lr 1e-4)": replace(FAST, adapt=replace(AdaptConfig(), lr=1e-4)),
    "+ adapt first frame only": replace(FAST, adapt=_FIRST_ONLY),
    "240, DIS fast, first only": replace(FAST, internal_height=240, fusion=FusionConfig(flow_mode="fast"), adapt=_FIRST_ONLY),
    "224, DIS fast, first only": replace(FAST, internal_height=224, fusion=FusionConfig(flow_mode="fast"), adapt=_FIRST_ONLY),
    "288, medium, every 5": replace(FAST, internal_height=288, fusion=FusionConfig(), adapt=AdaptConfig()),
    "368, medium, every 2": replace(FAST, internal_height=368, fusion=FusionConfig(), adapt=replace(AdaptConfig(), every=2, steps=4, first_steps=30)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--variants", default=";".join(VARIANTS), help="labels separated by ;")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = []
        for seed in map(int, args.seeds.split(",")):
            clip = render_clip(ClipConfig(height=480, width=854, num_frames=args.frames, seed=100 + seed))
            names.append(f"synthetic-{seed}")
            write_clip(clip, root / "data", name=names[-1])
        print(f"{len(names)} rendered clips, 854x480, {args.frames} frames, 3 objects each")
        print(f"| {'variant':<26} | J&F  | J    | F    | FPS  |")
        for label in args.variants.split(";"):
            fps = []
            for name in names:
                job = SegmentJob(root / "data/JPEGImages" / name, root / "data/Annotations" / name / "00000.png",
                                 root / label / name, method=args.model, network_config=VARIANTS[label], progress=False)
                fps.append(run_segment(job).fps)
            s = evaluate_roots(root / "data/Annotations", root / label).to_json()
            print(f"| {label:<26} | {s['J&F']:4.1f} | {s['J']:4.1f} | {s['F']:4.1f} | {sum(fps) / len(fps):4.1f} |", flush=True)


if __name__ == "__main__":
    main()
