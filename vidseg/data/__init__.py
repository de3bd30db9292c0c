"""Synthetic scenes: rendered example clips with exact ground truth (the README demo, test fixtures).

Names are imported lazily, so ``import vidseg.data`` does not load OpenCV until a clip is rendered.
"""

from __future__ import annotations

__all__ = ["ClipConfig", "SyntheticClip", "render_clip", "write_clip", "write_clip_video"]


def __getattr__(name: str):
    if name in __all__:
        from vidseg.data import synthetic

        return getattr(synthetic, name)
    raise AttributeError(f"module 'vidseg.data' has no attribute {name!r}")
