"""Masks as label images: read index PNGs (and 0/255 greyscale), write palette PNGs.

A label image is (H, W) uint8: 0 background, 1..255 object ids. Index PNGs (mode "P") hold
the ids directly, and their palette only says how to show them, so it is kept and reused but
never used to decode.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidseg.errors import InputError, OutputError
from vidseg.io.atomic import atomic_path

_HOW_TO_SAVE = (
    "save it as a palette PNG (mode 'P', pixel value = object id, as DAVIS does) "
    "or as a greyscale PNG with 0 for background and 255 for the object"
)


def _voc_colormap() -> bytes:
    """The PASCAL VOC / DAVIS colormap: the bits of the id interleaved into R, G, B."""
    out = bytearray()
    for index in range(256):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        out += bytes((r, g, b))
    return bytes(out)


DAVIS_PALETTE: bytes = _voc_colormap()
"""256 RGB triples (768 bytes): 0 black, 1 (128, 0, 0), 2 (0, 128, 0), 3 (128, 128, 0), ..."""


@dataclass(frozen=True)
class LabelImage:
    """A mask as read from disk.

    ``labels``: (H, W) uint8 object ids, 0 background. ``palette``: the PNG's 768-byte RGB
    palette when the file was a palette image, else None (writers then use DAVIS_PALETTE).
    """

    labels: np.ndarray
    palette: bytes | None = None

    @property
    def object_ids(self) -> list[int]:
        """The ids present, background excluded, ascending."""
        return [int(v) for v in np.unique(self.labels) if v != 0]


def read_mask(path: str | os.PathLike) -> LabelImage:
    """Read a mask file into object ids.

    Palette ("P") images give ids directly. Binary images (greyscale "L", "1", "I;16", or
    grey RGB/RGBA, with values only {0, 255} or only {0, 1}) give one object, id 1. Anything
    else (a colour RGB mask, greyscale with other values) raises InputError.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
    except FileNotFoundError as error:
        raise InputError(f"mask {path} does not exist; check the path") from error
    except (OSError, UnidentifiedImageError) as error:
        raise InputError(f"cannot read mask {path} ({error}); {_HOW_TO_SAVE}") from error
    if image.mode in ("P", "PA"):
        labels = np.array(image.getchannel(0) if image.mode == "PA" else image, dtype=np.uint8)
        return LabelImage(labels, _palette_bytes(image))
    return LabelImage(_binary_labels(image, path), None)


def _palette_bytes(image) -> bytes:
    palette = bytes(image.getpalette("RGB") or b"")
    return palette.ljust(768, b"\0")[:768]


def _binary_labels(image, path: Path) -> np.ndarray:
    """Object 1 where a two-valued (0/255 or 0/1) image is set; InputError for anything else."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        # Alpha is ignored: the mask is in the colour channels.
        rgb = np.asarray(image.convert("RGB"))
        if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])):
            raise InputError(f"mask {path} is a colour {mode} image, not an index image: {_HOW_TO_SAVE}")
        values = rgb[..., 0]
    elif mode in ("L", "LA", "1", "I", "I;16", "I;16B", "I;16L"):
        values = np.asarray(image.getchannel(0) if mode == "LA" else image)
    else:
        raise InputError(f"mask {path} has image mode {mode!r}, not an index image: {_HOW_TO_SAVE}")
    present = set(np.unique(values).tolist())
    if not (present <= {0, 255} or present <= {0, 1}):
        hint = " (JPEG compression changes pixel values: use PNG)" if path.suffix.lower() in (".jpg", ".jpeg") else ""
        shown = sorted(present)[:6]
        raise InputError(
            f"mask {path} is not an index image: greyscale values {shown}{'...' if len(present) > 6 else ''} "
            f"are not just 0 and 255{hint}; {_HOW_TO_SAVE}"
        )
    return (values != 0).astype(np.uint8)


def write_index_png(path: str | os.PathLike, labels: np.ndarray, palette: bytes | None = None) -> None:
    """Write (H, W) uint8 ``labels`` as a mode "P" PNG, atomically.

    ``palette``: up to 256 RGB triples; defaults to DAVIS_PALETTE.
    """
    write_png(path, index_image(labels, palette))


def index_image(labels: np.ndarray, palette: bytes | None = None):
    """(H, W) uint8 ``labels`` as a mode "P" PIL image with ``palette`` (default DAVIS_PALETTE)."""
    from PIL import Image

    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise ValueError(f"labels must be (H, W) uint8, got shape {labels.shape} dtype {labels.dtype}")
    palette = DAVIS_PALETTE if palette is None else bytes(palette)
    if len(palette) > 768 or len(palette) % 3:
        raise ValueError(f"palette must be at most 256 RGB triples, got {len(palette)} bytes")
    image = Image.fromarray(labels)  # mode "L"; putpalette makes it "P" without touching values
    image.putpalette(palette.ljust(768, b"\0"))
    return image


def write_png(path: str | os.PathLike, image) -> None:
    """Save a PIL image as PNG at ``path``, atomically; OutputError if the folder is not writable."""
    try:
        with atomic_path(path) as tmp:
            save_png(image, tmp)
    except OSError as error:
        raise OutputError(f"cannot write {path} ({error}); check that its folder is writable") from error


def save_png(image, path: str | os.PathLike) -> None:
    """Save a PIL image as PNG at ``path`` as it is (not atomically: for a temporary path).

    Compression level 3: ~6x faster than the default 6 on label maps and cut-outs, for files
    ~1.5x as big; per-frame outputs must keep up with the video.
    """
    image.save(path, format="PNG", compress_level=3)


def fit_mask_to_frame(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Return (height, width) uint8 ``labels``, fixing a mask that is a pixel or two off.

    Policy: real annotations are sometimes a pixel off the frame size (DAVIS judo frame 5 is 853
    pixels wide against 854-pixel frames). When each dimension differs from the frame's by at
    most max(2 px, 1% of the frame's dimension), the mask is padded with background or cropped
    at the bottom and right edges, so pixel (0, 0) stays aligned with the frame's. A larger
    difference is not a rounding slip but a mask for another resolution: InputError, asking to
    resize the mask to the frame size.
    """
    labels = np.asarray(labels)
    mask_h, mask_w = labels.shape[:2]
    if (mask_h, mask_w) == (height, width):
        return labels
    if abs(mask_h - height) > _tolerance(height) or abs(mask_w - width) > _tolerance(width):
        raise InputError(
            f"mask is {mask_w}x{mask_h} but the frames are {width}x{height}: "
            f"resize the mask to {width}x{height} (nearest-neighbour, to keep the ids)"
        )
    fitted = np.zeros((height, width), dtype=labels.dtype)
    h, w = min(mask_h, height), min(mask_w, width)
    fitted[:h, :w] = labels[:h, :w]
    return fitted


def _tolerance(frame_size: int) -> int:
    return max(2, int(0.01 * frame_size))
