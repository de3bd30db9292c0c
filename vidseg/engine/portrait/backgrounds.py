"""Background replacement: the person kept, the rest blurred, replaced by an image or a colour.

The person's alpha comes from its probability map with soft edges (a ramp around 0.5, then a
small feather), and the frame is mixed over the new background with it::

    out = alpha * frame + (1 - alpha) * background

The blurred background is a *masked* blur (normalised convolution): the person's pixels are left
out of it, so no halo of the person's colours spreads into the blurred scene around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidseg.errors import InputError
from vidseg.io.frames import read_rgb

DEFAULT_BLUR = 15.0
MAX_BLUR = 200.0


@dataclass(frozen=True)
class BackgroundSpec:
    """What replaces the background: exactly one of an image, a blur or a colour.

    image: an image file of the frames' size. blur: Gaussian blur sigma in pixels of the frame.
    color: (R, G, B) 0..255.
    """

    image: Path | None = None
    blur: float | None = None
    color: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        given = [x for x in (self.image, self.blur, self.color) if x is not None]
        if len(given) != 1:
            raise InputError("give one background: an image, a blur or a colour")
        if self.blur is not None and not 0.0 < self.blur <= MAX_BLUR:
            raise InputError(f"blur must be a number of pixels in (0, {MAX_BLUR:g}], got {self.blur:g}")
        if self.color is not None and (len(self.color) != 3 or not all(0 <= c <= 255 for c in self.color)):
            raise InputError(f"colour must be three numbers 0..255 (R,G,B), got {self.color}")

    @classmethod
    def from_options(cls, image: str | Path | None = None, blur: str | None = None,
                     color: str | None = None) -> BackgroundSpec:
        """From the command line's text (``--background``, ``--blur N``, ``--color R,G,B``); none
        given means a blur of :data:`DEFAULT_BLUR` pixels."""
        if sum(x is not None for x in (image, blur, color)) > 1:
            raise InputError("give at most one of --background, --blur and --color")
        if image is not None:
            return cls(image=Path(image))
        if color is not None:
            return cls(color=parse_color(color))
        if blur is not None:
            try:
                value = float(blur)
            except ValueError:
                raise InputError(f"--blur takes a number of pixels, e.g. --blur 15, not {blur!r}") from None
            return cls(blur=value)
        return cls(blur=DEFAULT_BLUR)


def parse_color(text: str) -> tuple[int, int, int]:
    """'R,G,B' with integers 0..255 -> (R, G, B); InputError otherwise."""
    parts = text.split(",")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise InputError(f"--color takes R,G,B with three integers 0..255, e.g. 0,177,64, not {text!r}")
    return values  # type: ignore[return-value]


def soft_alpha(person: np.ndarray, low: float = 0.3, high: float = 0.7, feather: float = 1.5) -> np.ndarray:
    """(H, W) person probability -> (H, W) float32 alpha in [0, 1] with soft edges.

    A linear ramp from ``low`` (alpha 0) to ``high`` (alpha 1), centred on the mask's 0.5 edge,
    then a Gaussian feather of ``feather`` pixels (0: none).
    """
    import cv2

    person = np.asarray(person, dtype=np.float32)
    if person.ndim != 2:
        raise ValueError(f"person probability must be (H, W), got shape {person.shape}")
    alpha = np.clip((person - low) * (1.0 / (high - low)), 0.0, 1.0)
    if feather > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather)
    return alpha


class Compositor:
    """Replaces the background of (height, width) frames as ``spec`` says.

    The background image is read and checked once, here: an unreadable file or one of another
    size is an InputError (resizing would distort it silently; crop or resize it to the frames).
    """

    def __init__(self, spec: BackgroundSpec, height: int, width: int, feather: float = 1.5) -> None:
        self.spec = spec
        self.height, self.width = height, width
        self.feather = feather
        self._fixed: np.ndarray | None = None
        if spec.image is not None:
            image = read_rgb(spec.image, "background image", "give a JPEG or PNG image of the video's size")
            if image.shape[:2] != (height, width):
                raise InputError(
                    f"background image {spec.image} is {image.shape[1]}x{image.shape[0]} but the video is "
                    f"{width}x{height} (width x height): give an image of the video's size (crop or resize it first)"
                )
            self._fixed = np.ascontiguousarray(image)
        elif spec.color is not None:
            self._fixed = np.empty((height, width, 3), np.uint8)
            self._fixed[:] = spec.color

    def __call__(self, frame: np.ndarray, person: np.ndarray) -> np.ndarray:
        """frame (H, W, 3) uint8 RGB, person (H, W) probability -> (H, W, 3) uint8 RGB composite."""
        import cv2

        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise InputError(f"frame is {frame.dtype} {frame.shape}; the compositor was made for "
                             f"({self.height}, {self.width}, 3) uint8 frames")
        alpha = soft_alpha(person, feather=self.feather)
        background = self._fixed if self._fixed is not None else masked_blur(frame, person, self.spec.blur or DEFAULT_BLUR)
        return cv2.blendLinear(np.ascontiguousarray(frame), background, alpha, 1.0 - alpha)


def masked_blur(frame: np.ndarray, person: np.ndarray, sigma: float, low: float = 0.3) -> np.ndarray:
    """Gaussian blur (``sigma`` px) of the frame's background only: ``blur(f * k) / blur(k)``, ``k``
    1 where the person probability is at most ``low`` (alpha 0 there) and 0 elsewhere.

    Blurs wider than 3 px run on a frame downscaled so that sigma is about 3 px there, and the
    result is upscaled: the cost does not grow with ``sigma``. Where the person covers the whole
    blur window, the plain blurred frame is used.
    """
    import cv2

    height, width = frame.shape[:2]
    factor = max(1, int(sigma // 3))
    keep = (np.asarray(person) <= low).astype(np.float32)
    if factor > 1:
        small = (max(1, round(width / factor)), max(1, round(height / factor)))
        image = cv2.resize(frame, small, interpolation=cv2.INTER_AREA).astype(np.float32)
        keep = cv2.resize(keep, small, interpolation=cv2.INTER_AREA)
    else:
        image = frame.astype(np.float32)
    s = sigma / factor
    weight = cv2.GaussianBlur(keep, (0, 0), s)
    out = cv2.GaussianBlur(image * keep[..., None], (0, 0), s)
    out /= np.maximum(weight, 1e-6)[..., None]
    hidden = weight <= 0.05
    if hidden.any():
        out[hidden] = cv2.GaussianBlur(image, (0, 0), s)[hidden]
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    if factor > 1:
        out = cv2.resize(out, (width, height), interpolation=cv2.INTER_LINEAR)
    return out
