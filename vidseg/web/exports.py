"""Exports: the project's masks as a zip of index PNGs, an overlay mp4, alpha cut-outs and RLE JSON.

The files are written by the same writers as ``vidseg segment`` (``write_index_png`` and
``open_sinks``) into a temporary folder, then zipped into ``projects/<id>/exports/`` atomically.
Each frame's labels are what the user sees: the latest result with the frame's prompt on top.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import zipfile
from pathlib import Path

from vidseg.errors import InputError
from vidseg.io.atomic import atomic_path
from vidseg.io.masks import write_index_png
from vidseg.io.sinks import open_sinks
from vidseg.web.workspace import OpenProject, Workspace

KINDS = ("masks", "overlay", "alpha", "rle")


def parse_kinds(text: str) -> tuple[str, ...]:
    """"masks,rle" -> ("masks", "rle"); InputError for an unknown or empty choice."""
    kinds = tuple(k for k in (part.strip() for part in text.split(",")) if k)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise InputError(f"export {text!r} is not valid; choose one or more of {', '.join(KINDS)} (comma-separated)")
    return tuple(k for k in KINDS if k in kinds)


def export_zip(workspace: Workspace, project_id: int, kinds: tuple[str, ...]) -> Path:
    """Write ``projects/<id>/exports/project-<id>-<kinds>.zip``; returns its path.

    Zip members: ``masks/00000.png`` (index PNGs), ``overlay.mp4``, ``alpha/00000.png`` (RGBA),
    ``masks.json`` (COCO RLE per frame and object)."""
    project = workspace.get(project_id)
    held = project.session.snapshot()
    if not held.prompts and not held.computed:
        raise InputError("nothing to export yet: select an object and propagate first")
    folder = workspace.store.project_dir(project_id) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"project-{project_id}-{'-'.join(kinds)}.zip"
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    try:
        with workspace.busy_guard(project):
            _write_files(project, work, kinds)
        with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(work.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    archive.write(path, path.relative_to(work).as_posix())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _write_files(project: OpenProject, work: Path, kinds: tuple[str, ...]) -> None:
    session = project.session
    with contextlib.ExitStack() as stack:
        sinks = open_sinks(stack, session.source.fps, None,
                           overlay=work / "overlay.mp4" if "overlay" in kinds else None,
                           alpha=work / "alpha" if "alpha" in kinds else None,
                           rle=work / "masks.json" if "rle" in kinds else None)
        for index, frame in session.source.iter_frames():
            labels = session.labels(index)
            stem = f"{index:05d}"
            if "masks" in kinds:
                write_index_png(work / "masks" / f"{stem}.png", labels)
            for sink in sinks:
                sink(index, stem, frame, labels)
