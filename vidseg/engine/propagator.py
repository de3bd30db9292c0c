"""What the session asks of a method that carries masks from frame to frame."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Propagator(Protocol):
    """A per-video mask propagator. The session owns it; one instance serves one pass.

    Probabilities are ``(K + 1, H, W)`` float32 at frame resolution, slot 0 the background,
    channels summing to 1. The session calls, for each frame in traversal order:
    ``predict`` (except on the pass's first frame), then ``update`` with the final result for
    that frame (after any user prompt is applied), so the method's memory sees what the user sees.
    """

    name: str

    def reset(self) -> None:
        """Forget every frame seen (a new pass starts)."""

    def predict(self, frame: np.ndarray) -> np.ndarray:
        """Frame (HxWx3 uint8 RGB) -> probabilities (K + 1, H, W) for the objects known so far."""

    def update(self, frame: np.ndarray, probs: np.ndarray, prompted: bool = False) -> None:
        """Record the frame and its final probabilities (K + 1, H, W); K may have grown.

        prompted: the frame carries a user's mask (a method may keep it as a reference for good)."""
