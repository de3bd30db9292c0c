"""``vidseg batch``'s manifest: one JSON object per line, each a video and its prompt.

    {"id": "dog", "input": "videos/dog.mp4", "mask": "masks/dog.png"}
    {"id": "cat", "input": "frames/cat", "box": [120, 40, 380, 300]}

``box`` is [x0, y0, x1, y1] in pixels of frame 0 (x1, y1 exclusive), as ``--box`` and the Python API. Relative paths are relative to the manifest's
folder, so a manifest and its videos can move together (or sit on a shared file system that
every machine of a cluster mounts at the same place). The whole file is checked before any
video is started; every problem is reported with its line number.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from vidseg.errors import InputError
from vidseg.ops.boxes import Box

# An id names a folder under OUT_ROOT: no separators, no leading dot (our markers are dot files).
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_KEYS = {"id", "input", "mask", "box"}


@dataclass(frozen=True)
class BatchItem:
    """One manifest line. ``box`` is (x0, y0, x1, y1), x1 and y1 exclusive."""

    id: str
    input: Path
    mask: Path | None = None
    box: Box | None = None
    line: int = 0

    def fingerprint(self) -> dict:
        """What decides this video's output: a finished video is skipped only while it is unchanged."""
        return {"input": str(self.input), "mask": None if self.mask is None else str(self.mask),
                "box": None if self.box is None else list(self.box.as_tuple())}


def read_manifest(path: Path) -> list[BatchItem]:
    """The manifest's videos in file order; InputError naming the first bad line (and how many more)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"manifest {path} does not exist; give a .jsonl file with one video per line")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"manifest {path} cannot be read as UTF-8 text ({error})") from None
    items: list[BatchItem] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            item = parse_line(text, number, path.parent)
            if item.id in seen:
                raise InputError(f"id {item.id!r} is used again (first on line {seen[item.id]}); ids must be unique")
        except InputError as error:
            problems.append(f"{path.name} line {number}: {error}")
            continue
        seen[item.id] = number
        items.append(item)
    if problems:
        more = f" (and {len(problems) - 1} more bad lines)" if len(problems) > 1 else ""
        raise InputError(problems[0] + more)
    if not items:
        raise InputError(f"manifest {path} lists no video; write one JSON object per line")
    return items


def parse_line(text: str, number: int, base: Path) -> BatchItem:
    """One manifest line as a BatchItem, paths resolved against ``base``; InputError says what is wrong."""
    try:
        entry = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(entry, dict):
        raise InputError('each line must be a JSON object like {"id": ..., "input": ..., "mask": ...}')
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}; a line has id, input, and mask or box")
    video_id = entry.get("id")
    if not isinstance(video_id, str) or not _ID.fullmatch(video_id):
        raise InputError(f"id is {video_id!r}; use a name of letters, digits, '_', '-' or '.' "
                         "(not starting with '.'; it names the output folder)")
    if video_id == "summary.json":
        raise InputError("id 'summary.json' is the name of the batch's summary file; choose another id")
    if ("mask" in entry) == ("box" in entry):
        raise InputError(f"video {video_id!r} needs exactly one prompt: \"mask\" (an index PNG) or \"box\" [x0, y0, x1, y1]")
    video = _existing_path(entry.get("input"), "input", base)
    if "mask" in entry:
        return BatchItem(video_id, video, mask=_existing_path(entry["mask"], "mask", base), line=number)
    return BatchItem(video_id, video, box=_box(entry["box"]), line=number)


def _existing_path(value: object, key: str, base: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise InputError(f"{key} is {value!r}; give a path as a string")
    path = Path(value).expanduser()
    path = (path if path.is_absolute() else base / path).resolve()
    if not path.exists():
        raise InputError(f"{key} {path} does not exist")
    return path


def _box(value: object) -> Box:
    """[x0, y0, x1, y1] (x1, y1 exclusive) -> Box; checked against the frame once the video is open."""
    ok = (isinstance(value, list) and len(value) == 4
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value))
    if not ok:
        raise InputError(f"box is {value!r}; give [x0, y0, x1, y1]: four numbers in pixels (x1, y1 exclusive)")
    box = Box(*(float(v) for v in value))
    if not all(math.isfinite(v) for v in box.as_tuple()):  # JSON as Python reads it allows NaN and Infinity
        raise InputError(f"box {value!r} holds a value that is not a finite number; give [x0, y0, x1, y1] in pixels")
    if box.x0 < 0 or box.y0 < 0 or box.x1 <= box.x0 or box.y1 <= box.y0:
        raise InputError(f"box {value!r} must have x0, y0 >= 0, x1 > x0 and y1 > y0")
    return box
