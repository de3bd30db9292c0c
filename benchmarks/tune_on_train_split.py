"""Compare run-time settings of the network method on training-split clips, so validation stays untouched.

Rank settings with a network that has not trained on the clips they are ranked on: train one on
``--sequences fit`` (the training split less ``vidseg.eval.splits.TUNE``) and rank on TUNE (the
default here). A network ranked on clips it learnt favours whatever leaves its output alone (online
adaptation measured -4.1 J&F that way, +2.0 on validation). J and F only: settings are ranked here,
their speed is measured by ``benchmarks/vos_ablation.py``.

    python benchmarks/tune_on_train_split.py --model runs/vos-fit/vos.pt
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
from vidseg.eval.splits import TRAIN, TUNE
from vidseg.flow.fusion import FusionConfig

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016-train"
FAST, QUALITY = PRESETS["fast"], PRESETS["quality"]
_ADAPT = AdaptConfig(enabled=True, every=0)  # on the prompted frame, as the ablation's row
_PRESET = MemoryConfig(preset_frame=True)


def _full(config: PropagatorConfig, height: int | None = None) -> PropagatorConfig:
    """``config`` with adaptation and the preset frame on (at ``height`` when given)."""
    config = replace(config, adapt=_ADAPT, memory=_PRESET)
    return config if height is None else replace(config, internal_height=height)


_EVERY_10 = MemoryConfig(preset_frame=True, every=10)
_CONTINUAL = AdaptConfig(enabled=True, every=5)  # also updated every 5 frames on its own confident output
_GENTLE = AdaptConfig(enabled=True, every=0, first_steps=5, lr=2e-4)  # a smaller step away from the trained head
_EVERY_5 = MemoryConfig(preset_frame=False, every=5)

VARIANTS: dict[str, PropagatorConfig] = {
    "fast": FAST,
    "fast + adaptation": replace(FAST, adapt=_ADAPT),
    "fast + preset frame": replace(FAST, memory=_PRESET),
    "fast + both": _full(FAST),
    "fast + both, continual adaptation": replace(FAST, adapt=_CONTINUAL, memory=_PRESET),
    "fast + both, a memory frame every 10": replace(FAST, adapt=_ADAPT, memory=_EVERY_10),
    "fast, 224 px + both": _full(FAST, 224),
    "quality": QUALITY,
    "quality + adaptation": replace(QUALITY, adapt=_ADAPT),
    "quality + both": _full(QUALITY),
    "quality, 288 px + both": _full(QUALITY, 288),
    "quality + both, a memory frame every 10": replace(QUALITY, adapt=_ADAPT, memory=_EVERY_10),
    "quality + both, guided upsampling": replace(_full(QUALITY), upsample="guided"),
    "fast + gentle adaptation": replace(FAST, adapt=_GENTLE),
    "quality + gentle adaptation": replace(QUALITY, adapt=_GENTLE),
    "quality + preset frame": replace(QUALITY, memory=_PRESET),
    "quality, a memory frame every 5": replace(QUALITY, memory=_EVERY_5),
    "quality, 288 px": replace(QUALITY, internal_height=288),
    "fast + mirror": replace(FAST, mirror=True),
    "quality + mirror": replace(QUALITY, mirror=True),
    "quality, 288 px + mirror": replace(QUALITY, internal_height=288, mirror=True),
    "quality + mirror, fast flow": replace(QUALITY, mirror=True, fusion=FusionConfig(flow_mode="fast")),
    "quality, 304 px + mirror": replace(QUALITY, internal_height=304, mirror=True),
    "quality, 320 px + mirror": replace(QUALITY, internal_height=320, mirror=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="vos checkpoint trained without these sequences "
                        "('vidseg train vos --sequences fit')")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="DAVIS-layout root")
    parser.add_argument("--sequences", default=",".join(TUNE),
                        help="comma-separated training-split sequences (default: the TUNE clips, which a "
                             "'--sequences fit' network has not seen)")
    parser.add_argument("--variants", default=";".join(VARIANTS), help="labels separated by ;")
    args = parser.parse_args()
    sequences = args.sequences.split(",")
    if not set(sequences) <= set(TRAIN):
        raise SystemExit(f"not in our training split: {', '.join(sorted(set(sequences) - set(TRAIN)))}")
    print(f"{len(sequences)} training-split sequences: {', '.join(sequences)}; model {args.model}")
    print(f"| {'variant':<42} |  J&F  |   J   |   F   | J&F per sequence |")
    with tempfile.TemporaryDirectory() as tmp:
        for label in args.variants.split(";"):
            out = Path(tmp) / label.replace(" ", "_")
            for seq in sequences:
                first = sorted((args.root / "Annotations" / seq).glob("*.png"))[0]
                run_segment(SegmentJob(args.root / "JPEGImages" / seq, first, out / seq, method=args.model,
                                       network_config=VARIANTS[label], progress=False))
            result = evaluate_roots(args.root / "Annotations", out, sequences=sequences)
            s = result.to_json()
            each = " ".join(f"{r.jf:.1f}" for r in result.sequences)
            print(f"| {label:<42} | {s['J&F']:5.1f} | {s['J']:5.1f} | {s['F']:5.1f} | {each} |", flush=True)


if __name__ == "__main__":
    main()
