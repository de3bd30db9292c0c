"""Crop windows around a selection: cut the network's input out, paste its output back.

A window is a rectangle in image pixels, a square unless asked otherwise, that may reach past the
image's edges (there the crop is black and the mask empty), so an object at the border keeps its
place in the crop. The crop itself is always square: a window that is not is stretched to it along
its shorter side, so a long object fills more of the crop than its square window would let it.
Training and inference cut crops with these same functions, so the network sees the same geometry
in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidseg.errors import InputError

MIN_SIDE = 24.0  # pixels: a smaller window would magnify a few pixels into the whole crop
MAX_STRETCH = 4.0  # beyond this a window's crop distorts its object past what a network can read


def check_stretch(stretch: float) -> float:
    """``stretch`` (how many times a window's longer side may be its shorter) as a float, or an
    InputError that says the range."""
    if isinstance(stretch, bool) or not isinstance(stretch, (int, float)) or not 1 <= stretch <= MAX_STRETCH:
        raise InputError(f"stretch is {stretch!r}; give a number from 1 (square windows) to {MAX_STRETCH:g}")
    return float(stretch)


@dataclass(frozen=True)
class CropWindow:
    """A window ``side`` pixels wide and ``height`` pixels high (None: a square) whose top-left
    corner is at image pixel (x0, y0). ``size`` in the methods is the side of the square crop."""

    x0: float
    y0: float
    side: float
    height: float | None = None

    @classmethod
    def around(cls, box: tuple[float, float, float, float], margin: float, stretch: float = 1.0) -> CropWindow:
        """The window centred on ``box`` (x0, y0, x1, y1): a square, its longer side grown by
        ``margin`` of itself on each side; with ``stretch`` > 1, each side grown by that many
        pixels instead and the shorter side kept at least 1 / ``stretch`` of the longer, so the crop
        magnifies the box's shorter side by up to ``stretch`` times more than its longer."""
        x0, y0, x1, y1 = box
        w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        side = max(max(w, h) * (1 + 2 * margin), MIN_SIDE)
        if stretch <= 1.0 or w == h:
            return cls((x0 + x1 - side) / 2, (y0 + y1 - side) / 2, side)
        grow = side - max(w, h)
        width, height = (max(v + grow, side / stretch, MIN_SIDE) for v in (w, h))
        return cls((x0 + x1 - width) / 2, (y0 + y1 - height) / 2, width, height)

    @classmethod
    def centred(cls, x: float, y: float, side: float) -> CropWindow:
        side = max(side, MIN_SIDE)
        return cls(x + 0.5 - side / 2, y + 0.5 - side / 2, side)

    @property
    def tall(self) -> float:
        """The window's height in image pixels."""
        return self.side if self.height is None else self.height

    @property
    def longest(self) -> float:
        return max(self.side, self.tall)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x0 + self.side, self.y0 + self.tall

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x < self.x0 + self.side and self.y0 <= y < self.y0 + self.tall

    def scales(self, size: int) -> np.ndarray:
        """(2,) crop pixels per image pixel along x and y."""
        return np.array([size / self.side, size / self.tall])

    def to_crop(self, points: np.ndarray, size: int) -> np.ndarray:
        """(N, 2) image pixel coordinates (x, y) -> crop pixel coordinates."""
        scale = self.scales(size).astype(np.float32)
        return (np.asarray(points, np.float32).reshape(-1, 2) + 0.5 - np.float32((self.x0, self.y0))) * scale - 0.5

    def to_image_points(self, points: np.ndarray, size: int) -> np.ndarray:
        """(N, 2) crop pixel coordinates -> image pixel coordinates (the inverse of ``to_crop``)."""
        return (np.asarray(points, np.float64).reshape(-1, 2) + 0.5) / self.scales(size) + (self.x0, self.y0) - 0.5

    def to_image_box(self, box: tuple[float, float, float, float], size: int) -> tuple[float, float, float, float]:
        """A box in crop pixels -> the same box in image pixels."""
        sx, sy = self.scales(size)
        x0, y0, x1, y1 = box
        return self.x0 + x0 / sx, self.y0 + y0 / sy, self.x0 + x1 / sx, self.y0 + y1 / sy

    def box_to_crop(self, box: tuple[float, float, float, float], size: int) -> tuple[float, float, float, float]:
        """A box in image pixels -> the same box in crop pixels (the inverse of ``to_image_box``)."""
        sx, sy = self.scales(size)
        x0, y0, x1, y1 = box
        return (x0 - self.x0) * sx, (y0 - self.y0) * sy, (x1 - self.x0) * sx, (y1 - self.y0) * sy

    def matrix(self, size: int) -> np.ndarray:
        """(2, 3) affine from image to crop pixel coordinates (pixel centres map to centres)."""
        sx, sy = self.scales(size)
        return np.array([[sx, 0, (0.5 - self.x0) * sx - 0.5],
                         [0, sy, (0.5 - self.y0) * sy - 0.5]], np.float64)


def cut(image: np.ndarray, window: CropWindow, size: int, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """The window of ``image`` (H, W[, C]) resized to (size, size[, C]); zero outside the image.

    A shrink of more than 2x asks for INTER_AREA, but warpAffine samples only a pixel's neighbours
    whatever the flag, so fine texture aliases; :func:`cut_smooth` does not. (The interactive
    network was trained on crops from this function, so it keeps using it.)
    """
    matrix = window.matrix(size)
    if interpolation == cv2.INTER_LINEAR and min(matrix[0, 0], matrix[1, 1]) < 0.5:
        interpolation = cv2.INTER_AREA
    return cv2.warpAffine(image, matrix, (size, size), flags=interpolation, borderMode=cv2.BORDER_CONSTANT)


def cut_smooth(image: np.ndarray, window: CropWindow, size: int) -> np.ndarray:
    """:func:`cut`, with the image first halved (area averaging) while the crop
    would shrink it by 2x or more: warpAffine samples only a pixel's neighbours whatever the flag
    (INTER_AREA included), so a strong shrink aliased fine texture into noise. Training and
    tracking cut their crops with this one function."""
    while window.longest / size >= 2 and min(image.shape[:2]) >= 32:
        h, w = image.shape[:2]
        image = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        sx, sy = (w // 2) / w, (h // 2) / h  # edge coordinates scale exactly (sx = sy for even sides)
        if window.height is None:  # a square stays one
            window = CropWindow(window.x0 * sx, window.y0 * sy, window.side * (sx + sy) / 2)
        else:
            window = CropWindow(window.x0 * sx, window.y0 * sy, window.side * sx, window.height * sy)
    return cut(image, window, size)


def paste(crop: np.ndarray, window: CropWindow, image_hw: tuple[int, int]) -> np.ndarray:
    """A (size, size) float map of the crop back in image pixels (H, W); zero outside the window."""
    size = crop.shape[0]
    return cv2.warpAffine(crop, window.matrix(size), (image_hw[1], image_hw[0]),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)


def paste_region(crop: np.ndarray, window: CropWindow, image_hw: tuple[int, int]
                 ) -> tuple[tuple[slice, slice], np.ndarray]:
    """:func:`paste` drawn only over the image pixels the window covers: (rows, columns) slices of
    the image and the map there, ``paste(...)[rows, columns]`` but for OpenCV's rounding of each
    pixel's source to a 1/32-px grid (zero elsewhere). A small window (the focus pass's) then
    costs its own size, not the image's."""
    h, w = image_hw
    # A pixel past each edge too: bilinear sampling blends the crop's edge into the zero border.
    left, top, right, bottom = window.box
    x0, y0 = max(int(np.floor(left)) - 1, 0), max(int(np.floor(top)) - 1, 0)
    x1, y1 = min(int(np.ceil(right)) + 1, w), min(int(np.ceil(bottom)) + 1, h)
    x1, y1 = max(x1, x0), max(y1, y0)
    matrix = window.matrix(crop.shape[0])
    matrix[:, 2] += np.diag(matrix[:, :2]) * np.array([x0, y0])  # the same map, from the region's own pixels
    region = (cv2.warpAffine(crop, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_CONSTANT) if x1 > x0 and y1 > y0
              else np.zeros((y1 - y0, x1 - x0), crop.dtype))
    return (slice(y0, y1), slice(x0, x1)), region
