"""Square crop windows around a selection: cut the network's input out, paste its output back.

A window is a square in image pixels that may reach past the image's edges (there the crop is
black and the mask empty), so an object at the border keeps its place in the crop. Training and
inference cut crops with these same functions, so the network sees the same geometry in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_SIDE = 24.0  # pixels: a smaller window would magnify a few pixels into the whole crop


@dataclass(frozen=True)
class CropWindow:
    """A square of side ``side`` pixels whose top-left corner is at image pixel (x0, y0)."""

    x0: float
    y0: float
    side: float

    @classmethod
    def around(cls, box: tuple[float, float, float, float], margin: float) -> CropWindow:
        """The square centred on ``box`` (x0, y0, x1, y1), its longer side grown by ``margin`` of
        itself on each side."""
        x0, y0, x1, y1 = box
        side = max(x1 - x0, y1 - y0, 1.0) * (1 + 2 * margin)
        side = max(side, MIN_SIDE)
        return cls((x0 + x1 - side) / 2, (y0 + y1 - side) / 2, side)

    @classmethod
    def centred(cls, x: float, y: float, side: float) -> CropWindow:
        side = max(side, MIN_SIDE)
        return cls(x + 0.5 - side / 2, y + 0.5 - side / 2, side)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x0 + self.side, self.y0 + self.side

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x < self.x0 + self.side and self.y0 <= y < self.y0 + self.side

    def to_crop(self, points: np.ndarray, size: int) -> np.ndarray:
        """(N, 2) image pixel coordinates (x, y) -> crop pixel coordinates."""
        scale = size / self.side
        return (np.asarray(points, np.float32).reshape(-1, 2) + 0.5 - (self.x0, self.y0)) * scale - 0.5

    def to_image_points(self, points: np.ndarray, size: int) -> np.ndarray:
        """(N, 2) crop pixel coordinates -> image pixel coordinates (the inverse of ``to_crop``)."""
        scale = self.side / size
        return (np.asarray(points, np.float64).reshape(-1, 2) + 0.5) * scale + (self.x0, self.y0) - 0.5

    def to_image_box(self, box: tuple[float, float, float, float], size: int) -> tuple[float, float, float, float]:
        """A box in crop pixels -> the same box in image pixels."""
        scale = self.side / size
        x0, y0, x1, y1 = box
        return self.x0 + x0 * scale, self.y0 + y0 * scale, self.x0 + x1 * scale, self.y0 + y1 * scale

    def box_to_crop(self, box: tuple[float, float, float, float], size: int) -> tuple[float, float, float, float]:
        """A box in image pixels -> the same box in crop pixels (the inverse of ``to_image_box``)."""
        scale = size / self.side
        x0, y0, x1, y1 = box
        return (x0 - self.x0) * scale, (y0 - self.y0) * scale, (x1 - self.x0) * scale, (y1 - self.y0) * scale

    def matrix(self, size: int) -> np.ndarray:
        """(2, 3) affine from image to crop pixel coordinates (pixel centres map to centres)."""
        scale = size / self.side
        return np.array([[scale, 0, (0.5 - self.x0) * scale - 0.5],
                         [0, scale, (0.5 - self.y0) * scale - 0.5]], np.float64)


def cut(image: np.ndarray, window: CropWindow, size: int, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """The window of ``image`` (H, W[, C]) resized to (size, size[, C]); zero outside the image.

    A shrink of more than 2x asks for INTER_AREA, but warpAffine samples only a pixel's neighbours
    whatever the flag, so fine texture aliases; :func:`cut_smooth` does not. (The interactive
    network was trained on crops from this function, so it keeps using it.)
    """
    matrix = window.matrix(size)
    if interpolation == cv2.INTER_LINEAR and matrix[0, 0] < 0.5:
        interpolation = cv2.INTER_AREA
    return cv2.warpAffine(image, matrix, (size, size), flags=interpolation, borderMode=cv2.BORDER_CONSTANT)


def cut_smooth(image: np.ndarray, window: CropWindow, size: int) -> np.ndarray:
    """:func:`cut`, with the image first halved (area averaging) while the crop
    would shrink it by 2x or more: warpAffine samples only a pixel's neighbours whatever the flag
    (INTER_AREA included), so a strong shrink aliased fine texture into noise. Training and
    tracking cut their crops with this one function."""
    while window.side / size >= 2 and min(image.shape[:2]) >= 32:
        h, w = image.shape[:2]
        image = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        sx, sy = (w // 2) / w, (h // 2) / h  # edge coordinates scale exactly (sx = sy for even sides)
        window = CropWindow(window.x0 * sx, window.y0 * sy, window.side * (sx + sy) / 2)
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
    x0, y0 = max(int(np.floor(window.x0)) - 1, 0), max(int(np.floor(window.y0)) - 1, 0)
    x1, y1 = min(int(np.ceil(window.x0 + window.side)) + 1, w), min(int(np.ceil(window.y0 + window.side)) + 1, h)
    x1, y1 = max(x1, x0), max(y1, y0)
    matrix = window.matrix(crop.shape[0])
    matrix[:, 2] += matrix[0, 0] * np.array([x0, y0])  # the same map, from the region's own pixels
    region = (cv2.warpAffine(crop, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_CONSTANT) if x1 > x0 and y1 > y0
              else np.zeros((y1 - y0, x1 - x0), crop.dtype))
    return (slice(y0, y1), slice(x0, x1)), region
