"""Videos into projects: an upload streamed to disk under a size limit, or a file of the data folder.

An upload is only kept if its extension is a video's and it decodes (the same check as every
other command: ``open_frames``). It is written under a hidden temporary name and renamed into
``videos/`` once it passed, so a killed server never leaves half a video that looks complete.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from vidseg.errors import InputError
from vidseg.io.frames import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, open_frames
from vidseg.web.security import safe_join
from vidseg.web.store import Project, Store

SUPPORTED = ", ".join(sorted(e.lstrip(".") for e in VIDEO_EXTENSIONS))


class TooLarge(InputError):
    """The upload is over the server's limit (HTTP 413)."""


class NotAVideo(InputError):
    """The upload is not a video the server can decode (HTTP 415)."""


def check_upload_name(name: str) -> str:
    """The upload's extension, lower case; NotAVideo unless it is a video's."""
    suffix = Path(name or "").suffix.lower()
    if suffix not in VIDEO_EXTENSIONS:
        raise NotAVideo(f"{name!r} is not a video file; upload one of: {SUPPORTED}")
    return suffix


def check_declared_size(length: str | None, limit: int) -> None:
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLarge(f"the file is {int(length) / 2**20:.1f} MB, over this server's limit of {limit / 2**20:.0f} MB; "
                       "cut the video shorter, or start the server with a larger --max-upload-mb")


async def save_upload(chunks: AsyncIterator[bytes], store: Store, name: str, limit: int) -> tuple[Path, str]:
    """Stream ``chunks`` into a hidden file of ``videos/``; returns it with the sha256 of its bytes,
    hashed as they arrive. TooLarge (file removed) past ``limit`` bytes."""
    suffix = check_upload_name(name)
    tmp = store.root / "videos" / f".upload-{uuid.uuid4().hex}{suffix}"
    size, digest = 0, hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"the upload is over this server's limit of {limit / 2**20:.0f} MB; cut the "
                                   "video shorter, or start the server with a larger --max-upload-mb")
                out.write(chunk)
                digest.update(chunk)
        if size == 0:
            raise NotAVideo(f"{name!r} is empty; upload a video file")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, digest.hexdigest()


def keep_upload(store: Store, tmp: Path, name: str, digest: str) -> Project:
    """Check that the saved upload decodes, move it into ``videos/`` under a safe name, make its project.

    The same file uploaded again (same bytes, whatever its name) opens its project instead of making
    a second one; the copy is dropped. ``digest``: the sha256 of ``tmp``'s bytes (``save_upload``'s)."""
    existing = store.find_project(sha256=digest)
    if existing is not None and (store.root / existing.video).is_file():
        tmp.unlink(missing_ok=True)
        return existing
    try:
        project = _checked_project(store, tmp, name)
    except InputError as error:
        tmp.unlink(missing_ok=True)
        # The decoder's message names the server's temporary path: the user gets the gist only.
        raise NotAVideo(f"{name!r} is not a video this server can read: it may be another kind of file or cut "
                        f"short; upload a video ({SUPPORTED}) that plays in a video player") from error
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name).stem)[:60].strip("_") or "video"
    final = store.root / "videos" / f"{stem}-{uuid.uuid4().hex[:8]}{tmp.suffix}"
    tmp.replace(final)
    # The project shows the file's own name (the server's copy has a suffix to keep names unique).
    return store.create_project(name=Path(name).name[:120], video=final.relative_to(store.root).as_posix(),
                                sha256=digest, **project)


def forget_video(store: Store, project: Project) -> None:
    """After ``project`` was deleted: its video too if it was an upload (the server's copy) that no
    other project uses. Videos the user put in ``videos/`` are the user's and stay."""
    if project.sha256 is None or store.find_project(video=project.video) is not None:
        return
    (store.root / project.video).unlink(missing_ok=True)


def open_data_video(store: Store, relative: str) -> Project:
    """A project for ``videos/<relative>``: a video file, or a folder of frames (JPEG or PNG, in
    name order), that the user put in the data folder."""
    path = safe_join(store.root / "videos", relative)
    if path.name.startswith(".") or not (path.is_file() or is_frame_folder(path)):
        raise InputError(f"{relative!r} is not a video or a folder of frames in the data folder's videos/; "
                         "choose one from the list")
    if path.is_file():
        check_upload_name(path.name)
    video = path.relative_to(store.root).as_posix()
    existing = store.find_project(video=video)
    if existing is not None:  # opened before: its project, not a second one
        return existing
    info = _checked_project(store, path, relative)
    return store.create_project(name=path.name, video=video, **info)


def _checked_project(store: Store, path: Path, name: str) -> dict:
    """The video's size and length, after decoding its first frame (InputError if it does not decode)."""
    with open_frames(path) as source:
        if len(source) == 0:
            raise InputError(f"{name!r} has no frames")
        source.read(0)
        return {"num_frames": len(source), "width": source.width, "height": source.height, "fps": source.fps}


def data_videos(store: Store) -> list[str]:
    """Videos and folders of frames under ``videos/`` (relative names; a folder's ends in ``/``),
    hidden ones left out."""
    folder = store.root / "videos"
    found = []
    for path in folder.rglob("*"):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS:
            found.append(path.relative_to(folder).as_posix())
        elif is_frame_folder(path):
            found.append(path.relative_to(folder).as_posix() + "/")
    return sorted(found)


def is_frame_folder(path: Path) -> bool:
    """A folder holding at least one JPEG or PNG image directly (a clip as frames)."""
    return path.is_dir() and any(p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
                                 for p in path.iterdir())
