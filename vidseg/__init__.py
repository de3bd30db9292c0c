"""vidseg: video object segmentation on an ordinary CPU.

The public entry points are :class:`VideoSegmenter` (videos) and :class:`ClickSegmenter` (one image,
a box or a click, then correction clicks); they are imported lazily so that ``import vidseg`` stays
cheap (no torch, no OpenCV) for tools that only need a submodule.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["ClickSegmenter", "VideoSegmenter", "__version__"]


def __getattr__(name: str):
    if name == "VideoSegmenter":
        from vidseg.engine.segmenter import VideoSegmenter

        return VideoSegmenter
    if name == "ClickSegmenter":
        from vidseg.engine.interactive.click_segmenter import ClickSegmenter

        return ClickSegmenter
    raise AttributeError(f"module 'vidseg' has no attribute {name!r}")
