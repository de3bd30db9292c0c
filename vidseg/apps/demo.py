"""The README's main job: render an example clip with ground truth, segment it, score it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from vidseg.apps.segment import SegmentJob, SegmentStats, check_method, run_segment
from vidseg.data import ClipConfig, render_clip, write_clip
from vidseg.eval import evaluate_roots
from vidseg.io.outputs import Output, check_outputs

CLIP_NAME = "example"
DEMO_CLIP = ClipConfig(height=480, width=854, num_frames=60, num_objects=3)


BASELINE = "flow"


@dataclass(frozen=True)
class MethodScore:
    method: str
    jf: float
    j: float
    f: float
    stats: SegmentStats

    def line(self) -> str:
        return (f"{self.method:>8}: J&F {self.jf:5.1f}  (J {self.j:.1f}, F {self.f:.1f})  "
                f"at {self.stats.fps:.1f} FPS")


@dataclass(frozen=True)
class DemoReport:
    frames_dir: Path
    masks_dir: Path
    overlay: Path
    scores: list[MethodScore]  # the method asked for, then the baseline measured in the same run

    def summary(self) -> str:
        return "\n".join([
            f"example clip:  {self.frames_dir} ({self.scores[0].stats.frames} frames, 3 objects, ground truth beside it)",
            f"masks:         {self.masks_dir}",
            f"overlay video: {self.overlay}",
            *(score.line() for score in self.scores),
        ])


def run_demo(out_dir: Path, method: str = "default", seed: int = 0, progress: bool = True) -> DemoReport:
    """Write the clip under ``out_dir/data`` and masks under ``out_dir/masks``; score ``method``
    and, unless it is the baseline itself, the flow baseline on the same clip."""
    check_demo(out_dir, method)
    clip = render_clip(replace(DEMO_CLIP, seed=seed))
    frames_dir = write_clip(clip, out_dir / "data", name=CLIP_NAME)
    gt_dir = out_dir / "data" / "Annotations" / CLIP_NAME
    overlay = out_dir / "overlay.mp4"
    scores = [_score(frames_dir, gt_dir, out_dir / "masks", method, overlay, progress)]
    if method != BASELINE:
        scores.append(_score(frames_dir, gt_dir, out_dir / "baseline", BASELINE, None, progress))
    return DemoReport(frames_dir, out_dir / "masks" / CLIP_NAME, overlay, scores)


def check_demo(out_dir: Path, method: str) -> None:
    """The method and the places the demo writes, before the example clip is rendered. The demo
    replaces its own earlier files, so a used ``out_dir`` is fine; a file in the way is not."""
    check_method(method)
    check_outputs([Output(out_dir, "-o", folder=True), Output(out_dir / "data", "-o", folder=True),
                   Output(out_dir / "masks" / CLIP_NAME, "-o", folder=True),
                   Output(out_dir / "baseline" / CLIP_NAME, "-o", folder=True),
                   Output(out_dir / "overlay.mp4", "-o")], inputs=[], overwrite=True)


def _score(frames_dir: Path, gt_dir: Path, masks_root: Path, method: str, overlay: Path | None,
           progress: bool) -> MethodScore:
    job = SegmentJob(input=frames_dir, mask=gt_dir / "00000.png", out_dir=masks_root / CLIP_NAME, method=method,
                     overlay=overlay, overwrite=True, progress=progress)
    stats = run_segment(job)
    s = evaluate_roots(gt_dir.parent, masks_root).to_json()
    return MethodScore(method, s["J&F"], s["J"], s["F"], stats)
