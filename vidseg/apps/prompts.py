"""Prompts given on the command line: ``--box FRAME:x0,y0,x1,y1[:ID]`` and ``--point FRAME:x,y[:ID]``.

They select objects through the interactive network, so a video needs no mask file to start: a box
around an object, or one click on it, on any frame. Without ``:ID`` each prompt is a new object,
numbered after the ids already in use.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass

from vidseg.errors import InputError
from vidseg.ops.boxes import Box


@dataclass(frozen=True)
class SelectionPrompt:
    """One object selected on frame ``frame`` (0-based) by a ``box`` or a ``point`` (x, y pixels);
    ``obj_id`` None: the next free id."""

    frame: int
    obj_id: int | None
    box: Box | None = None
    point: tuple[float, float] | None = None


def parse_prompt(text: str, flag: str) -> SelectionPrompt:
    """``FRAME:x0,y0,x1,y1[:ID]`` for ``--box`` or ``FRAME:x,y[:ID]`` for ``--point``."""
    shape = "FRAME:x0,y0,x1,y1[:ID]" if flag == "--box" else "FRAME:x,y[:ID]"
    parts = str(text).split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        frame, obj_id = int(parts[0]), (int(parts[2]) if len(parts) == 3 else None)
        values = [float(v) for v in parts[1].split(",")]
        if len(values) != (4 if flag == "--box" else 2):
            raise ValueError
    except ValueError:
        raise InputError(f"{flag} {text!r} is not {shape} (e.g. {_EXAMPLES[flag]})") from None
    if frame < 0:
        raise InputError(f"{flag} {text!r}: frames are numbered from 0")
    if obj_id is not None and not 1 <= obj_id <= 255:
        raise InputError(f"{flag} {text!r}: object ids are 1..255")
    if flag == "--box":
        return SelectionPrompt(frame, obj_id, box=Box(*values))
    return SelectionPrompt(frame, obj_id, point=(values[0], values[1]))


def warn_if_outside(box: Box, width: int, height: int, flag: str, frame: int | None = None) -> None:
    """Say on stderr that a box reaching past the image is clipped (it is: the part inside is used)."""
    if not box.inside(width, height):
        x0, y0, x1, y1 = box.pixels(width, height)
        given = f"{flag} {box}" if frame is None else f"{flag} {frame}:{box}"
        print(f"vidseg: warning: {given} reaches outside the {width}x{height} image; "
              f"its part inside, {x0},{y0},{x1},{y1}, is used", file=sys.stderr)


_EXAMPLES = {"--box": "0:120,80,300,260 or 40:10,10,90,200:2", "--point": "0:210,170 or 40:50,100:2"}


def number_prompts(prompts: Iterable[SelectionPrompt], used: Iterable[int]) -> list[SelectionPrompt]:
    """``prompts`` with an id each: given ids kept, the others numbered after every id in ``used``
    and in the prompts, in order."""
    prompts = list(prompts)
    taken = set(used) | {p.obj_id for p in prompts if p.obj_id is not None}
    numbered, next_id = [], max(taken, default=0) + 1
    for prompt in prompts:
        if prompt.obj_id is None:
            if next_id > 255:
                raise InputError("more than 255 objects; give some prompts the same :ID")
            prompt = SelectionPrompt(prompt.frame, next_id, prompt.box, prompt.point)
            next_id += 1
        numbered.append(prompt)
    return numbered
