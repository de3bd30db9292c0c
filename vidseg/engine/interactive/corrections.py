"""Boxes and clicks on a video's frames: checking them, and the click selections a session keeps.

A session corrects an object on a frame with a :class:`ClickSegmenter`. It keeps the selection
(crop, cached features, clicks so far) of the last few (frame, object) pairs, so that repeated
``add_clicks`` calls continue one selection, as a user's taps on one image do.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from vidseg.engine.interactive.clicks import Click, check_click
from vidseg.engine.objects import MAX_OBJECT_ID
from vidseg.errors import InputError

if TYPE_CHECKING:  # the segmenter imports torch; sessions that only take masks never load it
    from vidseg.engine.interactive.click_segmenter import ClickState

# Each selection holds its frame, its features and one (H, W) float32 map per click (1.6 MB at
# 854x480), so only the most recent few are kept; an older one restarts from the object's mask.
MAX_SELECTIONS = 4

ClickLike = Click | tuple[float, float, bool]


def check_object_id(obj_id: object) -> int:
    """``obj_id`` as an int in 1..255; InputError otherwise (bools and floats included)."""
    if isinstance(obj_id, (bool, np.bool_)) or not isinstance(obj_id, (int, np.integer)) \
            or not 1 <= obj_id <= MAX_OBJECT_ID:
        raise InputError(f"object id {obj_id!r} is not valid; use an integer 1..{MAX_OBJECT_ID} (0 is background)")
    return int(obj_id)


def check_clicks(clicks: Iterable[ClickLike], width: int, height: int) -> list[Click]:
    """``clicks`` (Click objects or (x, y, positive) tuples) as Clicks inside a width x height image.

    InputError for an empty list, a malformed click or one outside the image."""
    if isinstance(clicks, (Click, str, bytes)) or not isinstance(clicks, Iterable):
        raise InputError(f"clicks must be a list of Click or (x, y, positive) tuples, got {clicks!r}")
    checked = [_check_one(item, width, height) for item in clicks]
    if not checked:
        raise InputError("no clicks given; give at least one Click or (x, y, positive) tuple")
    return checked


def _check_one(item: ClickLike, width: int, height: int) -> Click:
    if isinstance(item, Click):
        x, y, positive = item.x, item.y, item.positive
    else:
        try:
            x, y, positive = item
            x, y = float(x), float(y)
        except (TypeError, ValueError):
            raise InputError(f"click {item!r} is not (x, y, positive); give Click objects or "
                             "(x, y, True/False) tuples") from None
    if positive not in (True, False):  # not bool(): the string "False" would count as positive
        raise InputError(f"click {item!r}: positive must be True (on the object) or False (off it)")
    x, y = check_click(x, y, width, height)
    return Click(x, y, bool(positive))


@dataclass
class SelectionCache:
    """The click selections of the most recent (frame, object id) pairs, oldest first."""

    capacity: int = MAX_SELECTIONS
    _items: OrderedDict[tuple[int, int], ClickState] = field(default_factory=OrderedDict)

    def get(self, frame: int, obj_id: int, current: np.ndarray) -> ClickState | None:
        """The selection of ``obj_id`` on ``frame`` if its mask is still ``current`` (H, W bool).

        A selection whose mask differs (a mask added there since, or another object's correction
        took some of its pixels) is dropped: continuing it would undo that change."""
        state = self._items.get((frame, obj_id))
        if state is None:
            return None
        if not np.array_equal(state.probs[-1] > 0.5, current):
            del self._items[(frame, obj_id)]
            return None
        return state

    def put(self, frame: int, obj_id: int, state: ClickState) -> None:
        self._items[(frame, obj_id)] = state
        self._items.move_to_end((frame, obj_id))
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def drop_frame(self, frame: int) -> None:
        """Forget the selections of ``frame`` (its prompt was replaced as a whole)."""
        for key in [k for k in self._items if k[0] == frame]:
            del self._items[key]

    def __len__(self) -> int:
        return len(self._items)
