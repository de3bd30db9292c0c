"""Read the masks a user gives on the command line: one index PNG, or a folder of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidseg.errors import InputError
from vidseg.io.masks import fit_mask_to_frame, read_mask

MASK_SUFFIXES = (".png",)


@dataclass(frozen=True)
class MaskPrompts:
    """masks: frame index -> HxW uint8 object ids; palette: the first mask's palette, if any."""

    masks: dict[int, np.ndarray]
    palette: bytes | None


def read_mask_prompts(path: str | Path, stems: list[str], height: int, width: int) -> MaskPrompts:
    """One mask file (for frame 0) or a folder of masks named by frame stems, fitted to HxW.

    In a folder each mask adds the objects it contains from its frame on (DAVIS 2017 and
    YouTube-VOS convention), so objects may start on any frame.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"mask {path} does not exist; give an index PNG or a folder of them")
    if path.is_file():
        files = {0: path}
    else:
        files = _files_by_frame(path, stems)
    masks: dict[int, np.ndarray] = {}
    palette = None
    for index, file in sorted(files.items()):
        image = read_mask(file)
        if not image.labels.any():
            raise InputError(f"mask {file} has no object (every pixel is 0); mark at least one object")
        try:
            masks[index] = fit_mask_to_frame(image.labels, height, width)
        except InputError as error:
            raise InputError(f"{file}: {error}") from None
        palette = palette or image.palette
    return MaskPrompts(masks, palette)


def _files_by_frame(folder: Path, stems: list[str]) -> dict[int, Path]:
    index_of = {stem: i for i, stem in enumerate(stems)}
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in MASK_SUFFIXES)
    if not files:
        raise InputError(f"mask folder {folder} holds no .png masks")
    unknown = [p.name for p in files if p.stem not in index_of]
    if unknown:
        raise InputError(
            f"mask {folder / unknown[0]} names no frame of the input (frames are named "
            f"{stems[0]}..{stems[-1]}); name each mask after the frame it belongs to"
        )
    return {index_of[p.stem]: p for p in files}
