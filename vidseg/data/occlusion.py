"""A real clip made harder: a wall passes in front of the camera and hides the object for a while.

DAVIS 2016 objects hardly ever disappear, so a method's ability to find an object again after
losing it cannot be measured on the clips as they are. ``occlude`` lays an opaque textured band,
the full height of the frame, over a clip: it slides in from the left, covers every pixel the
object takes during the hidden frames, stays, then slides out to the right (like a pillar passing
during a pan). The ground truth loses the pixels the band covers, so on hidden frames the right
answer is an empty mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidseg.errors import InputError


@dataclass(frozen=True)
class Occlusion:
    """start: first frame the object is fully hidden; hold: frames it stays hidden; slide: frames
    the band takes to come in (and to go out); margin: px the band reaches beyond the object."""

    start: int
    hold: int
    slide: int = 4
    margin: int = 12

    def __post_init__(self) -> None:
        if self.start < 1 or self.hold < 1 or self.slide < 0 or self.margin < 0:
            raise InputError(f"occlusion {self}: start and hold must be at least 1, slide and margin not negative")


def band_columns(occlusion: Occlusion, masks: np.ndarray, width: int) -> list[tuple[int, int] | None]:
    """Per frame, the band's [left, right) columns (None: off screen); they may reach past the frame.

    masks: (T, H, W) bool ground truth; the band is as wide as the object's columns over the hidden
    frames plus the margin each side."""
    o = occlusion
    hidden = masks[o.start : o.start + o.hold].any(axis=(0, 1))
    if not hidden.any():
        raise InputError(f"the object is absent from frames {o.start}..{o.start + o.hold - 1}; occlude other frames")
    cols = np.flatnonzero(hidden)
    x0, x1 = int(cols[0]) - o.margin, int(cols[-1]) + 1 + o.margin
    band = x1 - x0
    spans: list[tuple[int, int] | None] = []
    for t in range(len(masks)):
        if o.start <= t < o.start + o.hold:
            left = x0
        elif o.start - o.slide <= t < o.start:  # coming in from the left edge
            left = round(-band + (x0 + band) * (t - o.start + o.slide + 1) / (o.slide + 1))
        elif o.start + o.hold <= t < o.start + o.hold + o.slide:  # going out to the right edge
            left = round(x0 + (width - x0) * (t - o.start - o.hold + 1) / (o.slide + 1))
        else:
            spans.append(None)
            continue
        spans.append((left, left + band) if left < width and left + band > 0 else None)
    return spans


def occlude(frames: np.ndarray, masks: np.ndarray, occlusion: Occlusion, wall: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The clip with the band over it: (frames (T, H, W, 3) uint8, masks (T, H, W) uint8).

    masks: (T, H, W) integer ids (0 background). wall: (H, W', 3) uint8 texture of the band, W'
    at least W plus twice the margin (the widest band); it moves with the band."""
    t, h, w = masks.shape
    if frames.shape[:3] != (t, h, w) or wall.shape[0] != h or wall.shape[1] < w + 2 * occlusion.margin:
        raise InputError(f"frames {frames.shape}, masks {masks.shape} and wall {wall.shape} do not fit together")
    if occlusion.start + occlusion.hold + occlusion.slide > t:
        raise InputError(f"the clip has {t} frames, too few for {occlusion}")
    spans = band_columns(occlusion, masks > 0, w)
    frames, masks = frames.copy(), masks.copy()
    for i, span in enumerate(spans):
        if span is None:
            continue
        lo, hi = max(0, span[0]), min(w, span[1])
        frames[i, :, lo:hi] = wall[:, lo - span[0] : hi - span[0]]
        masks[i, :, lo:hi] = 0
    return frames, masks
