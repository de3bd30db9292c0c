"""The reference frames one propagation pass keeps: what is stored per frame, added and dropped.

Which frames are kept is the memory policy's rule (:mod:`vidseg.engine.vos.memory_policy`); the
bank stores them (keys and masks on the key grid, and what online adaptation trains on) and drops
every frame the policy will not ask for again, so memory stays bounded on any video length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from vidseg.engine.vos.memory_policy import MemoryPolicy
from vidseg.nn.propagation import RefineInputs


@dataclass
class MemoryEntry:
    """One remembered frame: key (C, M) on the key grid, masks (K, M) there, and for adaptation
    the refine inputs it was segmented with (None for a pass's first frame) and its result at
    stride 2 (K, 1, h, w)."""

    key: torch.Tensor
    masks: torch.Tensor
    inputs: RefineInputs | None
    result: torch.Tensor


@dataclass
class MemoryBank:
    """The stored frames of one pass, by step, with the prompted ones pinned.

    pinned: prompted frames (each object's own first frame), never dropped. starts: the step at
    which each slot's object started; an object is matched only against frames from then on."""

    policy: MemoryPolicy
    entries: dict[int, MemoryEntry] = field(default_factory=dict)
    pinned: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, step: int) -> MemoryEntry:
        return self.entries[step]

    def get(self, step: int) -> MemoryEntry | None:
        return self.entries.get(step)

    def add(self, step: int, entry: MemoryEntry, prompted: bool) -> None:
        """Store ``entry`` as step ``step`` (objects new in it start there), then drop what is no longer needed."""
        num_objects = entry.masks.shape[0]
        self.starts += [step] * (num_objects - len(self.starts))
        self.entries[step] = entry
        if prompted:
            self.pinned.append(step)
        self._forget(step)

    def first_entry(self, slot: int) -> MemoryEntry | None:
        """The entry of object ``slot``'s (0-based) first frame, if it is still stored."""
        return self.entries.get(self.starts[slot])

    def long_steps(self, step: int) -> list[int]:
        """The stored long-term references for segmenting ``step``: the policy's and the pinned ones."""
        chosen = set(self.policy.select(step, 0)) | set(self.pinned)
        chosen.discard(step - 1)  # the previous frame is the short-term reference
        chosen.discard(step)
        return sorted(s for s in chosen if s in self.entries)

    def adaptation_steps(self, step: int) -> list[int]:
        """``step`` and the policy's frames for it but the prompted ones (their masks are the user's)."""
        return [step] + [s for s in self.policy.select(step, 0) if s not in self.pinned]

    def _forget(self, step: int) -> None:
        keep = set(self.policy.needed_after(step)) | set(self.pinned) | {step}
        for old in [s for s in self.entries if s not in keep]:
            del self.entries[old]


def slot_row(masks: torch.Tensor, slot: int) -> torch.Tensor:
    """(1, M): row ``slot`` of masks (K, M), empty if the object did not exist yet then (K <= slot)."""
    if slot < masks.shape[0]:
        return masks[slot : slot + 1]
    return torch.zeros(1, masks.shape[1])


def resize_probs(probs: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """(K, H, W) float -> (K, h, w) tensor, area-averaged."""
    h, w = size
    out = np.stack([cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA) for p in probs]) if len(probs) else np.zeros((0, h, w), np.float32)
    return torch.from_numpy(out.astype(np.float32))
