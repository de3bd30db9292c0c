"""vidseg: video object segmentation on an ordinary CPU.

The public entry point is :class:`VideoSegmenter`; it is imported lazily so that ``import vidseg``
stays cheap (no torch, no OpenCV) for tools that only need a submodule.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["VideoSegmenter", "__version__"]


def __getattr__(name: str):
    if name == "VideoSegmenter":
        from vidseg.engine.segmenter import VideoSegmenter

        return VideoSegmenter
    raise AttributeError(f"module 'vidseg' has no attribute {name!r}")
