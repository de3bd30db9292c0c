"""Photos with object masks as a training store: each photo is a one-frame "sequence".

Static photos teach what video alone cannot: thousands of object shapes and appearances. A folder
of photos holds ``images/<n>.jpg`` and ``masks/<n>.png`` (index PNG, nonzero = the object), as
ECSSD and PASCAL-S are laid out; a root may hold several such folders. Synthetic clips are made
from them by :mod:`vidseg.train.composite` (an object cut out and moved over another photo), the
way STM and MaskTrack pre-train.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from vidseg.errors import InputError
from vidseg.eval.splits import PHOTO_SPLITS, photo_in_split
from vidseg.train.clips import FrameStore


def photo_folders(root: str | os.PathLike) -> list[Path]:
    """``root`` itself when it holds images/ and masks/, else each sub-folder that does (sorted)."""
    root = Path(root)
    if (root / "images").is_dir() and (root / "masks").is_dir():
        return [root]
    found = sorted(p for p in root.iterdir() if (p / "images").is_dir() and (p / "masks").is_dir()) \
        if root.is_dir() else []
    if not found:
        raise InputError(f"{root} holds no photos: give a folder with images/ and masks/ "
                         "(or one whose sub-folders have them), e.g. ../shared/data/static")
    return found


# A part of a mask counts as an object of its own from this share of the mask's pixels; smaller
# specks (a ribbon, a gap in a fence) stay with no object rather than becoming one.
PART_SHARE = 0.05


def photo_pairs(root: str | os.PathLike, split: str = "all") -> Iterator[tuple[str, Path, Path]]:
    """(folder name, image path, mask path) of every photo with a mask under ``root`` in ``split``:
    "all", or our "train" or "validation" photos (:func:`vidseg.eval.splits.photo_in_split`, by
    position in the folder's sorted names)."""
    if split not in PHOTO_SPLITS:
        raise InputError(f"photo split {split!r}; give one of {', '.join(PHOTO_SPLITS)}")
    for folder in photo_folders(root):
        for position, image_path in enumerate(sorted((folder / "images").glob("*.jpg"))):
            mask_path = folder / "masks" / f"{image_path.stem}.png"
            if mask_path.is_file() and photo_in_split(position, split):
                yield folder.name, image_path, mask_path


def load_photos(root: str | os.PathLike, max_side: int = 320, parts: bool = False, split: str = "all") -> FrameStore:
    """Every photo with a mask under ``root`` (see :func:`photo_folders`), shrunk so its longer
    side is at most ``max_side``; the whole mask is object 1 (a photo's salient objects together).
    With ``parts``, a photo whose mask falls into two or more separate parts (PASCAL-S often marks
    several objects) comes a second time with each part an object of its own (:func:`split_parts`),
    for networks that are asked for one object. ``split``: as :func:`photo_pairs` takes it."""
    names, frames, masks = [], [], []
    for folder, image_path, mask_path in photo_pairs(root, split):
        image, mask = _read_pair(image_path, mask_path, max_side)
        names.append(f"{folder}/{image_path.stem}")
        frames.append(image[None])
        masks.append(mask[None])
        apart = split_parts(mask) if parts else None
        if apart is not None:
            names.append(f"{folder}/{image_path.stem}#parts")
            frames.append(image[None])
            masks.append(apart[None])
    if not names:
        raise InputError(f"no photo under {root} has a mask of the same name in masks/")
    return FrameStore.from_arrays(names, frames, masks)


def split_parts(mask: np.ndarray) -> np.ndarray | None:
    """(H, W) {0, 1} -> (H, W) uint8 with each connected part of at least ``PART_SHARE`` of the mask
    an object 1..k (smaller specks 0); None when fewer than two parts are that large."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = [k + 1 for k in np.argsort(-areas) if areas[k] >= PART_SHARE * areas.sum()][:254]
    if len(big) < 2:
        return None
    lookup = np.zeros(count, np.uint8)
    lookup[big] = np.arange(1, len(big) + 1)
    return lookup[labels]


def _read_pair(image_path: Path, mask_path: Path, max_side: int) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 RGB and (H, W) uint8 {0, 1}, shrunk together (area for the image, nearest for the mask)."""
    image = np.asarray(Image.open(image_path).convert("RGB"))
    mask = (np.asarray(Image.open(mask_path)) > 0).astype(np.uint8)
    if mask.shape != image.shape[:2]:
        raise InputError(f"{mask_path} is {mask.shape[1]}x{mask.shape[0]} but {image_path} is "
                         f"{image.shape[1]}x{image.shape[0]}; fix or remove the pair")
    h, w = mask.shape
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(image), np.ascontiguousarray(mask)
