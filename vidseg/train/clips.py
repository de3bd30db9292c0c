"""Training footage in memory: the frames and masks of DAVIS-layout sequences, decoded once.

Training draws thousands of random frame triplets, so every frame is decoded and shrunk once, up
front, and kept as arrays. At half resolution the 2079 frames of DAVIS 2016 train take about
850 MB. Decoding them takes a while, so the arrays can be cached in one ``.npz`` file that a resumed
run, or any later run on the same footage, loads instead (:func:`default_cache_dir`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from vidseg.errors import InputError

# Bump when the cached arrays change meaning, so stale caches are decoded again rather than trusted.
_CACHE_VERSION = 1


class FrameStore:
    """Decoded sequences, all in memory.

    ``names[k]`` is sequence k; ``frames[k]``: (T_k, H_k, W_k, 3) uint8 RGB; ``masks[k]``:
    (T_k, H_k, W_k) uint8 object ids, 0 background.

    ``FrameStore(root, sequences, scale, cache_dir)`` decodes ``sequences`` of the DAVIS root
    ``root`` (``JPEGImages/<seq>/*.jpg``, ``Annotations/<seq>/*.png``) at ``scale`` times their
    size: frames shrunk with area averaging, masks with exact nearest neighbour (ids stay ids).
    Every frame needs a mask of the same stem. With ``cache_dir``, the arrays are read from (or,
    the first time, written to) one ``.npz`` file there, named after the root, the sequence list
    and the scale (:func:`cache_path`). ``progress`` shows a progress bar on stderr while decoding.
    :meth:`shared` opens one cached where every training run looks; :meth:`from_arrays`
    builds one from arrays already in memory.
    """

    names: tuple[str, ...]
    frames: tuple[np.ndarray, ...]
    masks: tuple[np.ndarray, ...]

    def __init__(self, root: str | os.PathLike, sequences: Sequence[str], scale: float = 0.5,
                 cache_dir: str | os.PathLike | None = None, progress: bool = True) -> None:
        root, sequences = Path(root), tuple(sequences)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= 1:
            raise InputError(f"scale is {scale!r}; use a number in (0, 1], e.g. 0.5 for half resolution")
        folders = sequence_folders(root, sequences)
        cache = None if cache_dir is None else cache_path(cache_dir, root, sequences, scale)
        arrays = _read_cache(cache, sequences) if cache is not None and cache.is_file() else None
        if arrays is None:
            arrays = _decode(folders, scale, progress)
            if cache is not None:
                _write_cache(cache, sequences, *arrays)
        self._set(sequences, *arrays)

    @classmethod
    def shared(cls, root: str | os.PathLike, sequences: Sequence[str], scale: float = 0.5) -> FrameStore:
        """The store as training opens it: cached in the one folder every run shares
        (:func:`default_cache_dir`), so a second run on the same footage skips the decoding."""
        return cls(root, sequences, scale, cache_dir=default_cache_dir())

    @classmethod
    def from_arrays(cls, names: Sequence[str], frames: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> FrameStore:
        """A store of sequences already decoded: ``frames[k]`` (T, H, W, 3) uint8, ``masks[k]`` (T, H, W) uint8."""
        store = cls.__new__(cls)
        store._set(tuple(names), tuple(frames), tuple(masks))
        return store

    def _set(self, names: tuple[str, ...], frames: tuple[np.ndarray, ...], masks: tuple[np.ndarray, ...]) -> None:
        if not (len(names) == len(frames) == len(masks)) or not names:
            raise ValueError("FrameStore needs one frames array and one masks array per name, and at least one name")
        for name, seq_frames, seq_masks in zip(names, frames, masks):
            if seq_frames.ndim != 4 or seq_frames.shape[-1] != 3 or seq_frames.dtype != np.uint8:
                raise ValueError(f"frames of {name!r} must be (T, H, W, 3) uint8, "
                                 f"got {seq_frames.dtype} {seq_frames.shape}")
            if seq_masks.shape != seq_frames.shape[:3] or seq_masks.dtype != np.uint8:
                raise ValueError(f"masks of {name!r} must be (T, H, W) uint8 matching the frames, got "
                                 f"{seq_masks.dtype} {seq_masks.shape}")
        self.names, self.frames, self.masks = names, frames, masks

    def __len__(self) -> int:
        return len(self.names)

    @property
    def num_frames(self) -> int:
        return sum(len(f) for f in self.frames)


class SeededSamples(torch.utils.data.Dataset):
    """``length`` random samples drawn from ``store``; item i is a pure function of (config.seed, i),
    so a resumed run sees the samples it would have seen. Subclasses define ``sample(rng)``; their
    config has ``seed`` and ``min_pixels`` (the smallest object a sample may be drawn for)."""

    def __init__(self, store: FrameStore, config, length: int) -> None:
        self.store = store
        self.config = config
        self.length = int(length)
        self.areas = object_areas(store)
        if not any((a[:, 1:] >= config.min_pixels).any() for a in self.areas):
            raise InputError(f"no frame of {', '.join(store.names)} shows an object of at least "
                             f"{config.min_pixels} pixels: check the masks or lower min_pixels")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < self.length:
            raise IndexError(f"sample {index} is out of range for {self.length} samples")
        return self.sample(np.random.default_rng((self.config.seed, index)))

    def sample(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        raise NotImplementedError


def object_areas(store: FrameStore) -> list[np.ndarray]:
    """Per sequence a (T_k, 256) int64 table: pixels of each object id on each frame (column 0 is background)."""
    return [np.stack([np.bincount(m.ravel(), minlength=256) for m in masks]) for masks in store.masks]


def pick_object(rng: np.random.Generator, areas: np.ndarray, min_pixels: int,
                frame: int | None = None) -> tuple[int, int] | None:
    """A random (frame, object id) with at least ``min_pixels`` pixels, from one sequence's ``areas``
    table (see :func:`object_areas`); on ``frame`` only when given. None when there is none."""
    rows = areas[:, 1:] if frame is None else areas[frame:frame + 1, 1:]
    found = np.argwhere(rows >= min_pixels)
    if len(found) == 0:
        return None
    t, k = found[rng.integers(len(found))]
    return (int(t) if frame is None else frame), int(k) + 1


def default_cache_dir() -> Path:
    """Where training keeps decoded footage: ``$VIDSEG_CACHE_DIR``, else ``$XDG_CACHE_HOME/vidseg``,
    else ``~/.cache/vidseg``.

    One folder for every run rather than one beside each checkpoint: the arrays of a root at one
    scale take gigabytes, and every run on the same footage can read the same file
    (:func:`cache_path` names it after the root, the sequences and the scale).
    """
    if os.environ.get("VIDSEG_CACHE_DIR"):
        return Path(os.environ["VIDSEG_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vidseg"


def cache_path(cache_dir: str | os.PathLike, root: Path, sequences: tuple[str, ...], scale: float) -> Path:
    """Where :meth:`FrameStore.load` caches ``sequences`` of ``root`` at ``scale``."""
    key = json.dumps({"root": str(root.resolve()), "sequences": list(sequences), "scale": float(scale),
                      "version": _CACHE_VERSION})
    return Path(cache_dir) / f"framestore-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"


def sequence_folders(root: Path, sequences: tuple[str, ...]) -> list[tuple[Path, Path]]:
    """(JPEGImages/<seq>, Annotations/<seq>) per sequence; InputError naming what is missing."""
    if not sequences:
        raise InputError("no sequences given: name at least one sequence folder of JPEGImages/")
    for part in ("JPEGImages", "Annotations"):
        if not (root / part).is_dir():
            raise InputError(f"{root / part} does not exist: give a DAVIS root holding JPEGImages/ and Annotations/")
    folders = [(root / "JPEGImages" / s, root / "Annotations" / s) for s in sequences]
    for name, (images, masks) in zip(sequences, folders):
        if not images.is_dir() or not masks.is_dir():
            raise InputError(f"sequence {name!r} is missing under {root}: it needs JPEGImages/{name}/ and "
                             f"Annotations/{name}/; check the name or the root")
    return folders


def _decode(folders: list[tuple[Path, Path]], scale: float,
            progress: bool) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """(frames, masks) per sequence folder pair, see :class:`FrameStore`."""
    from tqdm import tqdm

    from vidseg.io.frames import FolderSource

    sources = [FolderSource(images) for images, _ in folders]
    frames, masks = [], []
    with tqdm(total=sum(len(s) for s in sources), unit="frame", desc="decoding training frames",
              file=sys.stderr, disable=not progress) as bar:
        for source, (_, mask_dir) in zip(sources, folders):
            size = (max(1, round(source.width * scale)), max(1, round(source.height * scale)))
            seq_frames = np.empty((len(source), size[1], size[0], 3), np.uint8)
            seq_masks = np.empty((len(source), size[1], size[0]), np.uint8)
            for i, stem in enumerate(source.stems):
                seq_frames[i], seq_masks[i] = _decode_pair(source, i, mask_dir / f"{stem}.png", size)
                bar.update()
            frames.append(seq_frames)
            masks.append(seq_masks)
    return tuple(frames), tuple(masks)


def _decode_pair(source, i: int, mask_path: Path, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Frame i of ``source`` and its mask, both resized to ``size`` (width, height)."""
    import cv2

    from vidseg.io.masks import fit_mask_to_frame, read_mask

    if not mask_path.is_file():
        raise InputError(f"frame {source.paths[i]} has no mask {mask_path}: training needs a mask on every frame")
    frame = _read_frame(source, i)
    labels = fit_mask_to_frame(read_mask(mask_path).labels, source.height, source.width)
    if (source.width, source.height) != size:
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        labels = cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST_EXACT)
    return frame, labels


def _read_frame(source, i: int) -> np.ndarray:
    # One place that decodes, so tests can tell whether a load decoded anything.
    return source.read(i)


def _read_cache(path: Path, sequences: tuple[str, ...]) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]] | None:
    """(frames, masks) cached at ``path``, or None when the file is unreadable or holds other sequences."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if tuple(data["names"].tolist()) != sequences:
                return None
            frames = tuple(data[f"frames_{k}"] for k in range(len(sequences)))
            masks = tuple(data[f"masks_{k}"] for k in range(len(sequences)))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None  # a truncated or foreign file: decode again and overwrite it
    return frames, masks


def _write_cache(path: Path, names: tuple[str, ...], frames: tuple[np.ndarray, ...],
                 masks: tuple[np.ndarray, ...]) -> None:
    from vidseg.io.atomic import atomic_path

    arrays = {"names": np.array(names)}
    for k in range(len(names)):
        arrays[f"frames_{k}"], arrays[f"masks_{k}"] = frames[k], masks[k]
    # Uncompressed: JPEG-decoded pixels barely compress, and loading must be fast.
    with atomic_path(path) as tmp, open(tmp, "wb") as file:
        np.savez(file, **arrays)
