"""User object ids <-> tensor slots, in one place only (as Cutie's ObjectManager).

Users name objects by the ids of their index masks (1..255, any order, gaps allowed). Inside the
engine each object lives in a slot: channel ``slot`` of a ``(K + 1, H, W)`` probability array, with
slot 0 the background. Slots are handed out in the order objects are first seen and never reused,
so an object that leaves the view and comes back keeps its slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidseg.errors import InputError

MAX_OBJECT_ID = 255  # index PNGs hold one byte per pixel


@dataclass
class ObjectManager:
    """Maps user object ids to slots 1..K and back."""

    _slot_of: dict[int, int] = field(default_factory=dict)
    _ids: list[int] = field(default_factory=list)

    @property
    def num_objects(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> list[int]:
        """User ids in slot order (slot ``i + 1`` holds ``ids[i]``)."""
        return list(self._ids)

    def __contains__(self, obj_id: int) -> bool:
        return obj_id in self._slot_of

    def add(self, obj_id: int) -> int:
        """Register ``obj_id`` if new; return its slot (1-based)."""
        obj_id = int(obj_id)
        if not 1 <= obj_id <= MAX_OBJECT_ID:
            raise InputError(f"object id {obj_id} is out of range; use ids 1..{MAX_OBJECT_ID} (0 is background)")
        if obj_id not in self._slot_of:
            self._ids.append(obj_id)
            self._slot_of[obj_id] = len(self._ids)
        return self._slot_of[obj_id]

    def slot(self, obj_id: int) -> int:
        try:
            return self._slot_of[int(obj_id)]
        except KeyError:
            raise InputError(f"object {obj_id} is unknown; add it with a mask first") from None

    def ids_to_slots(self, labels: np.ndarray) -> np.ndarray:
        """Translate an id map (HxW) into a slot map, registering new ids. Returns HxW uint8."""
        lut = np.zeros(MAX_OBJECT_ID + 1, dtype=np.uint8)
        for obj_id in np.unique(labels):
            if obj_id != 0:
                lut[obj_id] = self.add(int(obj_id))
        return lut[labels]

    def slots_to_ids(self, slots: np.ndarray) -> np.ndarray:
        """Translate a slot map (HxW, values 0..K) back into user ids. Returns HxW uint8."""
        lut = np.zeros(self.num_objects + 1, dtype=np.uint8)
        lut[1:] = self._ids
        return lut[slots]
