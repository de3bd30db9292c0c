"""Which past frames to use: references of the propagation net and training frames of online adaptation.

Both are the same choice (seed 000, extended with every-k-th frames). Frames are named by their
*step*: their position in the order a pass processes frames (a backward pass counts backwards in
the video, forwards in steps), with the prompt's frame at step ``first``. Segmenting step ``t``
uses, with ``n = t - first`` frames already segmented:

- the first frame (``first``) and the previous one (``t - 1``);
- once ``n > threshold``, the preset frame: the stored step nearest to ``first + round(n * ratio)``
  (see below);
- with ``every = k > 0``, the latest ``max_every`` of the steps ``first + k, first + 2k, ...``
  before ``t``.

The preset step moves with ``t``: keeping every frame that may still become ``round(n' * ratio)``
for a later ``n'`` would mean keeping all frames after ``round(n * ratio)``, an unbounded set. So only
steps on a geometric grid (offsets 1, 2, ..., ~10, then growing by ``1 + preset_spacing`` each)
are candidates, and of those only the ones from just below the next target up to ``t`` are kept.
The preset used is the nearest kept candidate to the target: exact while offsets are below about
``1 / preset_spacing``, then within about ``preset_spacing / 2`` of the target, relatively: with
the default spacing, at most 6% of ``t`` for any ratio (1 frame at t = 18), under 5% once
``t`` > 50. One candidate slot would not do: a frame becomes the target only ``1 / ratio`` times
later than it is seen, so a single kept candidate is off by up to ``(1 - ratio) * t``. The steps kept at once never exceed :attr:`MemoryPolicy.max_stored`,
``2 + max_every + floor(log(1 / ratio) / log(1 + preset_spacing)) + 2`` (10 for the defaults
with ``every`` on, 6 with it off).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from vidseg.errors import InputError


@dataclass(frozen=True)
class MemoryConfig:
    """preset_frame: use the preset frame at all (seed 000's rule below); off keeps first and previous.
    threshold (T): frames segmented before the preset frame is used.
    ratio (r): the preset frame is at ``round(n * r)``, r in 0.6..0.9 (seed 000).
    every (k): also keep every k-th frame (0: off); max_every: at most this many of them, the latest.
    preset_spacing: relative spacing of the candidate steps kept for the preset frame (see the module
        docstring): smaller is more exact and keeps more frames.
    """

    preset_frame: bool = True
    threshold: int = 10
    ratio: float = 0.8
    every: int = 0
    max_every: int = 4
    preset_spacing: float = 0.1

    def __post_init__(self) -> None:
        for name in ("threshold", "every", "max_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"memory {name} must be a whole number >= 0, got {value!r}")
        if not 0.6 <= self.ratio <= 0.9:
            raise InputError(f"memory ratio must be in 0.6..0.9 (the preset frame's place), got {self.ratio}")
        if self.every and not self.max_every:
            raise InputError("memory max_every must be >= 1 when every > 0 (or set every = 0)")
        if not 0.0 < self.preset_spacing <= 1.0:
            raise InputError(f"memory preset_spacing must be in (0, 1], got {self.preset_spacing}")


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


class MemoryPolicy:
    """The rule, as pure functions of (t, first); it keeps only a cache of the candidate grid."""

    def __init__(self, config: MemoryConfig | None = None) -> None:
        self.config = config or MemoryConfig()
        self._grid = [1]  # candidate offsets from ``first`` for the preset frame, increasing

    @property
    def max_stored(self) -> int:
        """Most steps :meth:`needed_after` returns at once: first, previous, every-k-th, preset candidates."""
        c = self.config
        every = c.max_every if c.every else 0
        return 2 + every + math.floor(math.log(1.0 / c.ratio) / math.log(1.0 + c.preset_spacing)) + 2

    def select(self, t: int, first: int = 0) -> list[int]:
        """Sorted steps, all before ``t``, to use when segmenting the frame at step ``t`` (empty at ``first``)."""
        n = self._segmented(t, first)
        if n == 0:
            return []
        steps = {first, t - 1, *self._every_steps(n - 1, first)}
        preset = self.preset(t, first)
        if preset is not None:
            steps.add(preset)
        return sorted(steps)

    def preset(self, t: int, first: int = 0) -> int | None:
        """The preset step used at ``t`` (None while ``n <= threshold``): the kept candidate nearest
        to ``first + round(n * ratio)``, ``n = t - first``."""
        n = self._segmented(t, first)
        if not self.config.preset_frame or n <= self.config.threshold:
            return None
        target = self._target(n)
        if target < 1:
            return first
        below = self._grid_floor(target)
        above = self._grid_ceil(target)
        best = below if above > n - 1 or target - below <= above - target else above
        return first + best

    def needed_after(self, t: int, first: int = 0) -> set[int]:
        """Steps whose frames (features, masks) a later :meth:`select` may still ask for, once step ``t``
        is done; a caller may drop every other stored step. Always includes ``first`` and ``t``.

        Invariants (tested): ``select(t + 1) <= needed_after(t)`` and ``needed_after(t + 1) <=
        needed_after(t) | {t + 1}``, so a frame dropped once is never needed again.
        """
        n = self._segmented(t, first)
        keep = {first, t, *self._every_steps(n, first)}
        if not self.config.preset_frame:
            return keep
        # Candidates from the one just below the next target on: targets never move back.
        target = self._target(max(n + 1, self.config.threshold + 1))
        low = self._grid_floor(target) if target >= 1 else 1
        keep.update(first + u for u in self._grid_between(low, n))
        return keep

    def _segmented(self, t: int, first: int) -> int:
        if t < first or first < 0:
            raise ValueError(f"step t={t} is before the first step {first} (or first is negative)")
        return t - first

    def _target(self, n: int) -> int:
        """Offset of the ideal preset frame when ``n`` frames are segmented; at most ``n - 1``."""
        return min(_round_half_up(n * self.config.ratio), n - 1)

    def _every_steps(self, last: int, first: int) -> list[int]:
        """The latest ``max_every`` steps ``first + j*k`` (j >= 1) with offset at most ``last``."""
        k = self.config.every
        if not k:
            return []
        newest = last // k
        return [first + j * k for j in range(max(1, newest - self.config.max_every + 1), newest + 1)]

    def _extend_grid(self, upto: int) -> None:
        growth = 1.0 + self.config.preset_spacing
        while self._grid[-1] < upto:
            last = self._grid[-1]
            self._grid.append(max(last + 1, _round_half_up(last * growth)))

    def _grid_floor(self, x: int) -> int:
        """Largest candidate offset <= x (x >= 1)."""
        self._extend_grid(x)
        return self._grid[bisect.bisect_right(self._grid, x) - 1]

    def _grid_ceil(self, x: int) -> int:
        """Smallest candidate offset >= x."""
        self._extend_grid(x)
        return self._grid[bisect.bisect_left(self._grid, x)]

    def _grid_between(self, low: int, high: int) -> list[int]:
        self._extend_grid(high)
        return self._grid[bisect.bisect_left(self._grid, low) : bisect.bisect_right(self._grid, high)]
