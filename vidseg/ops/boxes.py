"""One box type for every API and command: x0, y0, x1, y1 in pixels, x1 and y1 exclusive.

(0, 0, W, H) is the whole image. Tracking benchmarks' files use x, y, w, h; :meth:`Box.from_xywh`
and :meth:`Box.to_xywh` convert at those edges only, so the rest of vidseg speaks one convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vidseg.errors import InputError


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: x0 <= x < x1, y0 <= y < y1 (floats allowed)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float) -> Box:
        return cls(x, y, x + w, y + h)

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> Box | None:
        """The tight box of the nonzero pixels of an (H, W) mask; None when it is empty."""
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            return None
        return cls(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))

    @classmethod
    def parse(cls, text: str, flag: str = "--box") -> Box:
        """``"x0,y0,x1,y1"`` -> Box; InputError naming ``flag`` when it is not four numbers."""
        try:
            values = [float(v) for v in str(text).split(",")]
        except ValueError:
            values = []
        if len(values) != 4:
            raise InputError(f"{flag} is {text!r}; give four numbers x0,y0,x1,y1 in pixels (x1, y1 exclusive)")
        return cls(*values)

    def to_xywh(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x1 - self.x0, self.y1 - self.y0

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x1, self.y1

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Whole pixels covering the box, clipped to a ``width`` x ``height`` image (may be empty)."""
        return (max(0, math.floor(self.x0)), max(0, math.floor(self.y0)),
                min(width, math.ceil(self.x1)), min(height, math.ceil(self.y1)))

    def inside(self, width: int, height: int) -> bool:
        """Whether the box lies within a ``width`` x ``height`` image (edges included)."""
        return self.x0 >= 0 and self.y0 >= 0 and self.x1 <= width and self.y1 <= height

    def __str__(self) -> str:
        return ",".join(f"{v:g}" for v in self.as_tuple())


def check_box(box: Box | tuple, width: int, height: int) -> Box:
    """``box`` (a Box or four numbers x0, y0, x1, y1) checked against a ``width`` x ``height`` image.

    InputError when a value is not a finite number, the box has no area, or it lies wholly
    outside the image. A box partly outside stays as given: callers clip with :meth:`Box.pixels`.
    """
    if not isinstance(box, Box):
        try:
            box = Box(*(float(v) for v in box))
        except (TypeError, ValueError):
            raise InputError(f"box is {box!r}; give four numbers x0,y0,x1,y1 in pixels") from None
    if not all(math.isfinite(v) for v in box.as_tuple()):
        raise InputError(f"box {box} holds a value that is not a finite number; give four pixel coordinates")
    if not (box.x1 > box.x0 and box.y1 > box.y0):
        raise InputError(f"box {box} has zero area; give x0,y0,x1,y1 with x1 > x0 and y1 > y0")
    x0, y0, x1, y1 = box.pixels(width, height)
    if x1 <= x0 or y1 <= y0:
        raise InputError(f"box {box} lies outside the {width}x{height} image; "
                         f"give x0,y0,x1,y1 within 0..{width} and 0..{height}")
    return box
