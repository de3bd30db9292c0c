"""Compare network settings on DAVIS clips of our training split, so validation stays untouched.

The network under test has trained on these clips, so its scores here are higher than on clips it
never saw; what this compares is the components around it (flow fusion, online adaptation, the
preset frame, the internal resolution), which a clip the network knows still exercises. J and F
only: settings are ranked here, their speed is measured by ``benchmarks/vos_ablation.py``.

    python benchmarks/tune_on_train_split.py --model vidseg/weights/vos-train-split.pt
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from vidseg.apps.segment import SegmentJob, run_segment
from vidseg.engine.vos.adapt import AdaptConfig
from vidseg.engine.vos.memory_policy import MemoryConfig
from vidseg.engine.vos.presets import PRESETS, PropagatorConfig
from vidseg.eval import evaluate_roots
from vidseg.eval.splits import TRAIN
from vidseg.flow.fusion import FusionConfig

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016-train"
FAST, QUALITY = PRESETS["fast"], PRESETS["quality"]
_ADAPT = AdaptConfig(enabled=True, every=0)  # on the prompted frame, as the ablation's row
_PRESET = MemoryConfig(preset_frame=True)


def _full(config: PropagatorConfig, height: int | None = None) -> PropagatorConfig:
    """``config`` with adaptation and the preset frame on (at ``height`` when given)."""
    config = replace(config, adapt=_ADAPT, memory=_PRESET)
    return config if height is None else replace(config, internal_height=height)


VARIANTS: dict[str, PropagatorConfig] = {
    "fast": FAST,
    "fast + adaptation": replace(FAST, adapt=_ADAPT),
    "fast + preset frame": replace(FAST, memory=_PRESET),
    "fast + both": _full(FAST),
    "quality": QUALITY,
    "quality + both": _full(QUALITY),
    "quality, 288 px": replace(QUALITY, internal_height=288),
    "quality, 336 px": replace(QUALITY, internal_height=336),
    "quality, 400 px": replace(QUALITY, internal_height=400),
    "quality, guided upsampling": replace(QUALITY, upsample="guided"),
    "fast, DIS medium": replace(FAST, fusion=FusionConfig(flow_mode="medium")),
    "fast, 240 px": replace(FAST, internal_height=240),
    "fast, 288 px": replace(FAST, internal_height=288),
    "quality, 336 px, guided upsampling": replace(QUALITY, internal_height=336, upsample="guided"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="vos checkpoint trained on our training split")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="DAVIS-layout root")
    parser.add_argument("--sequences", default=",".join(sorted(TRAIN)[::2]),
                        help="comma-separated training-split sequences (default: every second, by name)")
    parser.add_argument("--variants", default=";".join(VARIANTS), help="labels separated by ;")
    args = parser.parse_args()
    sequences = args.sequences.split(",")
    if not set(sequences) <= set(TRAIN):
        raise SystemExit(f"not in our training split: {', '.join(sorted(set(sequences) - set(TRAIN)))}")
    print(f"{len(sequences)} training-split sequences: {', '.join(sequences)}; model {args.model}")
    print(f"| {'variant':<38} |  J&F  |   J   |   F   |")
    with tempfile.TemporaryDirectory() as tmp:
        for label in args.variants.split(";"):
            out = Path(tmp) / label.replace(" ", "_")
            for seq in sequences:
                first = sorted((args.root / "Annotations" / seq).glob("*.png"))[0]
                run_segment(SegmentJob(args.root / "JPEGImages" / seq, first, out / seq, method=args.model,
                                       network_config=VARIANTS[label], progress=False))
            s = evaluate_roots(args.root / "Annotations", out, sequences=sequences).to_json()
            print(f"| {label:<38} | {s['J&F']:5.1f} | {s['J']:5.1f} | {s['F']:5.1f} |", flush=True)


if __name__ == "__main__":
    main()
