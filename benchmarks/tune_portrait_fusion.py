"""Choose portrait mode's fusion settings on half of the person sequences; the other half stays unseen.

The person model is MediaPipe's, not ours, so all 8 person sequences of ``benchmarks/portrait.py``
are test data for it. Fusion settings are chosen here on :data:`TUNE` (every other one in
alphabetical order); ``benchmarks/portrait.py`` reports all 8 and the other four apart, so the
effect of the choice can be read on sequences it never saw.

The person model runs once per sequence (its probabilities are cached under ``--cache``), then
each variant fuses them as ``PortraitPipeline`` does; J and flicker are computed in memory with the
benchmark's definitions (J per frame, flicker with ``FLICKER_FLOW``). Speed is not measured here.

    python benchmarks/tune_portrait_fusion.py
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from portrait import FUSION_TUNING  # benchmarks/ is on sys.path
from vos_ablation import DEFAULT_ROOT

from vidseg.engine.portrait.pipeline import PORTRAIT_FUSION, PortraitConfig, PortraitPipeline, load_person_model
from vidseg.eval.davis import read_index_png
from vidseg.eval.flicker import SequenceFlows, pair_flicker
from vidseg.eval.metrics import region_iou
from vidseg.io.frames import open_frames

TUNE = FUSION_TUNING

VARIANTS = {
    "seed rule (pw 0.9, g 1)": PORTRAIT_FUSION,
    "pw 1.0, g 1": replace(PORTRAIT_FUSION, prior_weight=1.0),
    "pw 0.9, g 0.5": replace(PORTRAIT_FUSION, confidence_power=0.5),
    "pw 0.9, g 0.25": replace(PORTRAIT_FUSION, confidence_power=0.25),
    "pw 0.5, g 0": replace(PORTRAIT_FUSION, prior_weight=0.5, confidence_power=0.0),
    "pw 0.6, g 0": replace(PORTRAIT_FUSION, prior_weight=0.6, confidence_power=0.0),
    "pw 0.7, g 0.25": replace(PORTRAIT_FUSION, prior_weight=0.7, confidence_power=0.25),
    "pw 0.9, g 0.5, block 8": replace(PORTRAIT_FUSION, confidence_power=0.5, block=8),
    "pw 0.9, g 0.5, no occlusion": replace(PORTRAIT_FUSION, confidence_power=0.5, occlusion=False),
    # second round, after the first showed the occlusion check to be what held fusion back
    "pw 0.9, g 1, no occlusion": replace(PORTRAIT_FUSION, occlusion=False),
    "pw 1.0, g 1, no occlusion": replace(PORTRAIT_FUSION, prior_weight=1.0, occlusion=False),
    "pw 0.9, g 1, occlusion margin 0": replace(PORTRAIT_FUSION, occlusion_margin=0),
    "pw 0.9, g 1, no occlusion, block 8": replace(PORTRAIT_FUSION, occlusion=False, block=8),
    "pw 0.9, g 1, no occlusion, block 2": replace(PORTRAIT_FUSION, occlusion=False, block=2),
    # third round: without the occlusion check, how far the network's confidence should hold mask 3 off
    "pw 1.0, g 0.5, no occlusion": replace(PORTRAIT_FUSION, prior_weight=1.0, confidence_power=0.5, occlusion=False),
    "pw 0.9, g 0.25, no occlusion": replace(PORTRAIT_FUSION, confidence_power=0.25, occlusion=False),
    "pw 0.7, g 0, no occlusion": replace(PORTRAIT_FUSION, prior_weight=0.7, confidence_power=0.0, occlusion=False),
    "pw 0.8, g 0.5, no occlusion": replace(PORTRAIT_FUSION, prior_weight=0.8, confidence_power=0.5, occlusion=False),
    # fourth round: a better flow (dropping the occlusion check saved one of the two flow fields)
    "pw 0.9, g 0.5, no occlusion, DIS fast": replace(PORTRAIT_FUSION, confidence_power=0.5, occlusion=False, preset="fast"),
    "pw 0.9, g 0.5, no occlusion, DIS fast, dense": replace(PORTRAIT_FUSION, confidence_power=0.5, occlusion=False, preset="fast", block=1),
    "pw 0.9, g 0.5, no occlusion, 240-px flow": replace(PORTRAIT_FUSION, confidence_power=0.5, occlusion=False, scale=1.0),
    "pw 1.0, g 0.5, no occlusion, DIS fast": replace(PORTRAIT_FUSION, prior_weight=1.0, confidence_power=0.5, occlusion=False, preset="fast"),
    # fifth round: with the 240-px flow, which of the other changes still matter
    "pw 0.9, g 1, no occlusion, 240-px flow": replace(PORTRAIT_FUSION, occlusion=False, scale=1.0),
    "pw 0.9, g 0.5, occlusion, 240-px flow": replace(PORTRAIT_FUSION, confidence_power=0.5, scale=1.0),
    "pw 0.9, g 0.5, no occlusion, 240-px flow, block 8": replace(PORTRAIT_FUSION, confidence_power=0.5, occlusion=False, scale=1.0, block=8),
}
ROUNDS = {"1": list(VARIANTS)[:9], "2": list(VARIANTS)[9:14], "3": list(VARIANTS)[14:18], "4": list(VARIANTS)[18:22],
          "5": list(VARIANTS)[22:]}


class _Replay:
    """A person model that hands back cached probabilities, in order."""

    def __init__(self, probs: np.ndarray) -> None:
        self._probs = iter(probs)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        return next(self._probs).astype(np.float32)

    def close(self) -> None:
        pass


def raw_probs(root: Path, seq: str, cache: Path, model_name: str) -> np.ndarray:
    """(T, H, W) float16 person probabilities of the MediaPipe model, computed once and cached."""
    path = cache / f"{seq}-{model_name}.npy"
    if path.is_file():
        return np.load(path)
    model = load_person_model(model_name)
    with open_frames(root / "JPEGImages" / seq) as source:
        probs = np.stack([model(frame).astype(np.float16) for _, frame in source.iter_frames()])
    model.close()
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, probs)
    return probs


def score(masks: list[np.ndarray], truth: list[np.ndarray], flows: SequenceFlows) -> tuple[float, float]:
    """J (mean over frames) and flicker (percent) of one sequence's masks."""
    j = float(np.mean([region_iou(m, g) for m, g in zip(masks, truth)]))
    flicker = 100.0 * float(np.mean([pair_flicker(masks[t - 1], masks[t], flows.backward(t))
                                     for t in range(1, len(masks))]))
    return j, flicker


def run_variant(config: PortraitConfig | None, root: Path, seq: str, probs: np.ndarray) -> list[np.ndarray]:
    if config is None:
        return [(p >= 0.5).astype(np.uint8) for p in probs]
    with open_frames(root / "JPEGImages" / seq) as source, PortraitPipeline(_Replay(probs), config) as pipeline:
        return [pipeline.step(frame).mask for _, frame in source.iter_frames()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--model", default="landscape", choices=["landscape", "general"])
    parser.add_argument("--cache", type=Path, default=Path("runs/portrait-tune"))
    parser.add_argument("--round", choices=sorted(ROUNDS), help="only this round's variants (default: all)")
    args = parser.parse_args()
    rows: dict[str, list[tuple[float, float]]] = {}
    for seq in TUNE:
        probs = raw_probs(args.root, seq, args.cache, args.model)
        truth = [read_index_png(p) > 0 for p in sorted((args.root / "Annotations" / seq).glob("*.png"))]
        flows = SequenceFlows(args.root / "JPEGImages" / seq)
        names = ROUNDS[args.round] if args.round else list(VARIANTS)
        variants = {"raw": None, **{k: PortraitConfig(flow=VARIANTS[k]) for k in names}}
        for label, config in variants.items():
            rows.setdefault(label, []).append(score(run_variant(config, args.root, seq, probs), truth, flows))
        print(f"{seq}: " + "; ".join(f"{k} J {v[-1][0] * 100:.1f} fl {v[-1][1]:.1f}" for k, v in rows.items()), flush=True)
    raw_j, raw_flicker = np.mean(rows["raw"], axis=0)
    print(f"\ntuning sequences: {', '.join(TUNE)}\n| variant | J | flicker | J vs raw | flicker vs raw |\n|---|---|---|---|---|")
    for label, values in rows.items():
        j, flicker = np.mean(values, axis=0)
        print(f"| {label} | {100 * j:.1f} | {flicker:.1f} | {100 * (j - raw_j):+.1f} | {100 * (flicker / raw_flicker - 1):+.0f}% |")


if __name__ == "__main__":
    main()
