"""The README's main job: render an example clip with ground truth, segment it, score it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidseg.apps.segment import SegmentJob, SegmentStats, run_segment
from vidseg.data import ClipConfig, render_clip, write_clip
from vidseg.eval import evaluate_roots

CLIP_NAME = "example"
DEMO_CLIP = ClipConfig(height=480, width=854, num_frames=60, num_objects=3)


@dataclass(frozen=True)
class DemoReport:
    frames_dir: Path
    masks_dir: Path
    overlay: Path
    method: str
    jf: float
    j: float
    f: float
    stats: SegmentStats

    def summary(self) -> str:
        return "\n".join([
            f"example clip:  {self.frames_dir} ({self.stats.frames} frames, ground truth beside it)",
            f"masks:         {self.masks_dir}",
            f"overlay video: {self.overlay}",
            f"method {self.method}: J&F {self.jf:.1f}  (J {self.j:.1f}, F {self.f:.1f})  at {self.stats.fps:.1f} FPS",
        ])


def run_demo(out_dir: Path, method: str = "default", seed: int = 0, progress: bool = True) -> DemoReport:
    """Write the clip under ``out_dir/data``, masks under ``out_dir/masks``; returns the scores."""
    clip = render_clip(ClipConfig(**{**DEMO_CLIP.__dict__, "seed": seed}))
    frames_dir = write_clip(clip, out_dir / "data", name=CLIP_NAME)
    gt_dir = out_dir / "data" / "Annotations" / CLIP_NAME
    masks_dir = out_dir / "masks" / CLIP_NAME
    overlay = out_dir / "overlay.mp4"
    job = SegmentJob(input=frames_dir, mask=gt_dir / "00000.png", out_dir=masks_dir, method=method,
                     overlay=overlay, overwrite=True, progress=progress)
    stats = run_segment(job)
    scores = evaluate_roots(gt_dir.parent, masks_dir.parent).to_json()
    return DemoReport(frames_dir, masks_dir, overlay, method, scores["J&F"], scores["J"], scores["F"], stats)
