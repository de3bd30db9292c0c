"""Drawing textured, shaded objects and their shadows into float images, one small region at a time.

Images are ``(H, W, 3)`` float32 RGB in 0..255 and are changed in place. Work is confined to the
bounding box of the object, so the cost follows the object's size, not the frame's.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_SUBPIXEL_BITS = 4  # fillPoly's fixed-point precision: outlines placed to 1/16 pixel


@dataclass(frozen=True)
class Raster:
    """An anti-aliased silhouette: ``alpha`` ``(h, w)`` uint8 coverage placed at row ``y0``, column ``x0``."""

    y0: int
    x0: int
    alpha: np.ndarray

    @property
    def solid(self) -> np.ndarray:
        """``(h, w)`` bool: pixels at least half covered, the ones the ground truth labels."""
        return self.alpha >= 128

    def region(self, image: np.ndarray) -> np.ndarray:
        """The view of ``image`` this raster covers."""
        h, w = self.alpha.shape
        return image[self.y0:self.y0 + h, self.x0:self.x0 + w]


def rasterise(polygon: np.ndarray, height: int, width: int, pad: int = 1) -> Raster | None:
    """Fill ``polygon`` ``(n, 2)`` (x, y) inside a ``height`` x ``width`` image; None if it misses it."""
    x0 = max(int(np.floor(polygon[:, 0].min())) - pad, 0)
    y0 = max(int(np.floor(polygon[:, 1].min())) - pad, 0)
    x1 = min(int(np.ceil(polygon[:, 0].max())) + pad + 1, width)
    y1 = min(int(np.ceil(polygon[:, 1].max())) + pad + 1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    alpha = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fixed = np.round((polygon - (x0, y0)) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    cv2.fillPoly(alpha, [fixed], 255, lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
    return Raster(y0, x0, alpha) if alpha.any() else None


def cast_shadow(image: np.ndarray, polygon: np.ndarray, offset: np.ndarray, blur: float, strength: float) -> None:
    """Darken ``image`` under a soft copy of ``polygon`` moved by ``offset`` (x, y) pixels."""
    raster = rasterise(polygon + offset, image.shape[0], image.shape[1], pad=int(np.ceil(3 * blur)) + 1)
    if raster is None:
        return
    soft = cv2.GaussianBlur(raster.alpha.astype(np.float32) * (strength / 255.0), (0, 0), blur)
    raster.region(image)[...] *= (1.0 - soft)[..., None]


def paint_textured(image: np.ndarray, raster: Raster, texture: np.ndarray, texture_to_image: np.ndarray,
                   centre: np.ndarray, radius: float, light: np.ndarray) -> None:
    """Composite ``texture`` ``(S, S, 3)`` float32, mapped by the ``(2, 3)`` affine, under ``raster``.

    Shading darkens the rim and tilts brightness towards ``light`` (a unit (x, y) vector), so
    objects look like rounded bodies rather than flat stickers.
    """
    h, w = raster.alpha.shape
    matrix = texture_to_image.copy()
    matrix[:, 2] -= (raster.x0, raster.y0)
    colour = cv2.warpAffine(texture, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    inside = raster.solid.astype(np.uint8)
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    shade = 0.8 + 0.2 * np.sqrt(np.minimum(depth / max(0.3 * radius, 1.0), 1.0))
    ys = (np.arange(h, dtype=np.float32) + raster.y0 - centre[1]) / radius
    xs = (np.arange(w, dtype=np.float32) + raster.x0 - centre[0]) / radius
    shade *= 1.0 + 0.12 * (xs[None, :] * light[0] + ys[:, None] * light[1])
    cover = (raster.alpha.astype(np.float32) / 255.0)[..., None]
    region = raster.region(image)
    region[...] = region * (1.0 - cover) + colour * (shade[..., None] * cover)
