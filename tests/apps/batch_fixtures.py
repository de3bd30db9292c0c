"""Small clips and a manifest for the ``vidseg batch`` tests: a frame folder with a mask, a video
with a box, and a corrupt video."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vidseg.data import ClipConfig, render_clip, write_clip
from vidseg.data.synthetic import write_clip_video


def object_box(labels: np.ndarray) -> list[int]:
    """[x0, y0, x1, y1] (x1, y1 exclusive) of the pixels of object 1 in (H, W) ``labels``."""
    ys, xs = np.nonzero(labels == 1)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def write_batch_inputs(root: Path, frames: int = 12) -> Path:
    """Write the three inputs under ``root``; returns the manifest (relative paths)."""
    folder = render_clip(ClipConfig(height=96, width=128, num_frames=frames, num_objects=2, seed=21))
    write_clip(folder, root / "davis", name="folder")
    video = render_clip(ClipConfig(height=96, width=128, num_frames=frames, num_objects=1, seed=22))
    write_clip_video(video, root / "video.mp4")
    (root / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    lines = [
        {"id": "folder", "input": "davis/JPEGImages/folder", "mask": "davis/Annotations/folder/00000.png"},
        {"id": "video", "input": "video.mp4", "box": object_box(video.labels[0])},
        {"id": "corrupt", "input": "corrupt.mp4", "mask": "davis/Annotations/folder/00000.png"},
    ]
    manifest = root / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return manifest


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
