"""Baseline method ``static``: every frame keeps the previous frame's masks (zero motion).

It is the floor any real method must clear in the same benchmark run.
"""

from __future__ import annotations

import numpy as np


class StaticPropagator:
    name = "static"

    def __init__(self) -> None:
        self._probs: np.ndarray | None = None

    def reset(self) -> None:
        self._probs = None

    def predict(self, frame: np.ndarray) -> np.ndarray:
        """Frame (HxWx3, unused) -> the previous (K + 1, H, W) probabilities."""
        if self._probs is None:
            raise RuntimeError("StaticPropagator.predict called before any update")
        return self._probs

    def update(self, frame: np.ndarray, probs: np.ndarray, prompted: bool = False) -> None:
        self._probs = probs
