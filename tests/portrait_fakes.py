"""A stand-in for the person model (same interface as vidseg.engine.portrait.selfie.SelfieSegmenter) and
tiny frames with a "person", so that portrait and live tests run without MediaPipe."""

from __future__ import annotations

import time

import numpy as np


def person_frames(count: int, height: int = 48, width: int = 64, absent: tuple[int, ...] = ()) -> np.ndarray:
    """(count, H, W, 3) uint8: a textured grey scene with a red block (the "person") moving right
    by 2 px per frame; frames listed in ``absent`` have no person."""
    rng = np.random.default_rng(0)
    scene = rng.integers(40, 110, size=(height, width + 2 * count, 3)).astype(np.uint8)
    frames = np.empty((count, height, width, 3), np.uint8)
    for t in range(count):
        frame = scene[:, :width].copy()
        if t not in absent:
            frame[height // 4: 3 * height // 4, 10 + 2 * t: 30 + 2 * t] = (220, 30, 30)
        frames[t] = frame
    return frames


def person_truth(frame: np.ndarray) -> np.ndarray:
    """(H, W) bool: where ``frame`` is the person's red."""
    return (frame[..., 0] > 180) & (frame[..., 1] < 80)


class RedPersonModel:
    """Person probability: 0.95 on red pixels, 0.05 elsewhere; ``noise`` adds per-frame random
    jitter in the probability (a flickering model); ``delay`` seconds per call (a slow model);
    ``interrupt_at``: raise KeyboardInterrupt on that call (Ctrl-C in the middle of a frame)."""

    def __init__(self, noise: float = 0.0, delay: float = 0.0, interrupt_at: int | None = None, seed: int = 0) -> None:
        self.noise, self.delay, self.interrupt_at = noise, delay, interrupt_at
        self.rng = np.random.default_rng(seed)
        self.calls = 0
        self.closed = False

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.interrupt_at is not None and self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        if self.delay:
            time.sleep(self.delay)
        prob = np.where(person_truth(frame), 0.95, 0.05).astype(np.float32)
        if self.noise:
            prob += self.rng.uniform(-self.noise, self.noise, size=prob.shape).astype(np.float32)
        return np.clip(prob, 0.0, 1.0)

    def close(self) -> None:
        self.closed = True
