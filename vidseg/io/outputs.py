"""Where a command will write, checked before it does any work: one check, called by every command.

A run must never replace its own input (``vidseg segment clip.mp4 ... --overlay clip.mp4`` used to
destroy the clip), never replace a user's file without ``--overwrite``, and never find out after
decoding a whole video that an output cannot be written (a path that is a folder, a folder that is
a file, a read-only folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vidseg.errors import OutputError


@dataclass(frozen=True)
class Output:
    """One output of a command: ``path``, the ``flag`` that named it (for the message), and
    whether it is a folder of per-frame files (masks, cut-out PNGs) rather than one file."""

    path: Path
    flag: str
    folder: bool = False


def check_outputs(outputs: Iterable[Output | None], inputs: Iterable[str | os.PathLike | None],
                  overwrite: bool) -> None:
    """OutputError unless every output can be written without harm.

    An output may not be an input (the same file, also through a symbolic or hard link, or an
    input folder), nor an existing file inside an input folder (a frame), nor another output.
    Without ``overwrite`` an existing output file, or an output folder holding files, is refused.
    A file output may not be a folder nor a folder output a file, and the folder an output goes
    into must be a folder this process can write. ``None`` entries are skipped (options not given).
    """
    outputs = [o for o in outputs if o is not None]
    inputs = [Path(p) for p in inputs if p is not None]
    for output in outputs:
        _check_not_an_input(output, inputs)
        if output.folder:
            _check_folder(output, overwrite)
        else:
            _check_file(output, overwrite)
        _check_writable(output)
    for i, first in enumerate(outputs):
        for second in outputs[i + 1:]:
            if same_path(first.path, second.path):
                raise OutputError(f"{first.flag} and {second.flag} both name {second.path}; give each its own path")


def same_path(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file or folder: the same inode when both exist (links),
    else the same absolute path once symbolic links are resolved."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _check_not_an_input(output: Output, inputs: list[Path]) -> None:
    for source in inputs:
        if same_path(output.path, source):
            raise OutputError(f"{output.flag} {output.path} is an input of this run; writing it would destroy "
                              "the input: give another path")
        if source.is_dir() and output.path.is_file() and _inside(output.path, source):
            raise OutputError(f"{output.flag} {output.path} is a file of the input folder {source}; "
                              "writing it would destroy the input: give another path")


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` lies anywhere under ``folder`` (its parent is ``folder`` itself, also through
    links, or ``folder`` is among its resolved ancestors: a frame of a sequence under a DAVIS root)."""
    return same_path(path.parent, folder) or folder.resolve() in path.resolve().parents


def _check_file(output: Output, overwrite: bool) -> None:
    path = output.path
    if path.is_dir():
        raise OutputError(f"cannot write {output.flag} {path}: it is a folder; give a file name")
    if path.exists() and not overwrite:
        raise OutputError(f"{output.flag} {path} already exists; give a new name, or pass --overwrite to replace it")


def _check_folder(output: Output, overwrite: bool) -> None:
    path = output.path
    if path.exists() and not path.is_dir():
        raise OutputError(f"output {path} is a file; give a folder for {output.flag}")
    if path.is_dir() and not overwrite and any(path.iterdir()):
        raise OutputError(f"output folder {path} already holds files; choose a new or empty folder, or pass --overwrite")


def _check_writable(output: Output) -> None:
    """The nearest existing folder on the way to the output must be a writable folder (it will
    hold the output, or the folders made for it)."""
    start = output.path if output.folder else output.path.parent
    nearest = next(p for p in (start.absolute(), *start.absolute().parents) if p.exists())
    if not nearest.is_dir():
        raise OutputError(f"cannot write {output.flag} {output.path}: {nearest} is a file, not a folder")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {output.flag} {output.path}: the folder {nearest} is read-only "
                          "or not yours to write; give another path")


def make_output_folder(path: Path) -> None:
    """Create the (checked) output folder ``path`` and its parents."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create {path} ({error}); check the path and permissions") from error
