"""The propagator's bookkeeping for re-finding lost objects (the Redetector itself is in redetect.py).

What the network propagator keeps so the Redetector can judge presence and so a lost object's own
prediction is not forgotten: the appearance references presence is read against (each object's
first frame and a few recent frames on which nothing was lost), the frame set aside to join them,
and the last prediction before the Redetector changed it.
"""

from __future__ import annotations

import numpy as np
import torch

from vidseg.engine.vos.memory_bank import MemoryBank, MemoryEntry, resize_probs, slot_row
from vidseg.engine.vos.redetect import Redetector
from vidseg.nn.propagation import match_references

PRESENCE_SAMPLES = 256  # key positions per presence check (see read_presence)

AppearanceRef = tuple[int, torch.Tensor, torch.Tensor]
"""(step, key (C, M), masks (K, M)) of a frame kept for presence."""


class RedetectMemory:
    """One pass's re-finding bookkeeping around ``redetector``; :meth:`reset` starts a pass."""

    def __init__(self, redetector: Redetector) -> None:
        self.redetector = redetector
        self.reset()

    def reset(self) -> None:
        self.appearance: list[AppearanceRef] = []  # presence references besides each object's first frame
        self.appearance_next: AppearanceRef | None = None  # joins if nothing is lost
        self.own: np.ndarray | None = None  # the last prediction before the re-finder changed it
        self.redetector.reset()

    def review(self, frame: np.ndarray, probs: np.ndarray, memory: MemoryBank, key: torch.Tensor,
               log_temperature: torch.Tensor) -> np.ndarray:
        """The Redetector's verdict on the prediction ``probs`` of ``frame`` (key: (1, C, h, w)); the
        prediction itself is kept for :meth:`probs_to_remember`."""
        self.own = probs
        return self.redetector.review(frame, probs,
                                    presence=lambda slot, mask: self.presence(memory, key, slot, mask, log_temperature))

    def presence(self, memory: MemoryBank, key: torch.Tensor, slot: int, mask: np.ndarray,
                 log_temperature: torch.Tensor) -> float | None:
        """Object ``slot``'s (1-based) presence under ``mask`` (see :func:`read_presence`), None when
        it has no usable reference."""
        refs = self.appearance_refs(memory, slot - 1)
        return None if refs is None else read_presence(key, refs, mask, log_temperature)

    def appearance_refs(self, memory: MemoryBank, slot: int) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
        """Object ``slot``'s (0-based) references (see :func:`appearance_refs`)."""
        return appearance_refs(memory, self.appearance, slot, self.redetector.config.min_reference_cells)

    def probs_to_remember(self, probs: np.ndarray, prompted: bool) -> np.ndarray:
        """``probs`` with each object the re-finder holds lost as the network itself saw it.

        A lost object's mask is cleared in what the user gets, but the network goes on from its
        own prediction: if the loss was a false alarm, or the object comes back where the
        network still looks, the network finds it again by itself (a cleared mask would leave it
        nothing to start from)."""
        own, self.own = self.own, None
        if prompted or own is None or own.shape != probs.shape:
            return probs
        lost = [slot for slot in range(1, probs.shape[0]) if self.redetector.lost(slot)]
        if not lost:
            return probs
        kept = probs.copy()
        kept[lost] = own[lost]
        kept[0] = np.clip(1.0 - kept[1:].sum(axis=0), 0.0, 1.0)
        return kept

    def remember(self, step: int, frame: np.ndarray, probs: np.ndarray, entry: MemoryEntry, prompted: bool) -> None:
        """Trackers start on prompted frames. Every ``refind.every`` steps a frame is set aside; it
        joins the latest ``refind.references`` frames that presence is read against ``every`` steps
        later if no object was lost meanwhile, so the frames just before a loss (an object half
        hidden, its mask already on what hides it) never do."""
        config = self.redetector.config
        if prompted:
            self.redetector.start(frame, probs)
            return
        if any(self.redetector.lost(slot) for slot in range(1, probs.shape[0])):
            self.appearance_next = None
        elif step % config.every == 0:
            if self.appearance_next is not None:
                self.appearance = [*self.appearance, self.appearance_next][-config.references:]
            self.appearance_next = (step, entry.key, entry.masks)


def appearance_refs(memory: MemoryBank, appearance: list[AppearanceRef], slot: int,
                    least: int) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    """Object ``slot``'s (0-based) appearance references, each keys (1, C, M) and masks (1, 1, M):
    its first frame and the frames of ``appearance`` after it, those where it covers at least
    ``least`` key cells (``refind.min_reference_cells``); None when there is none."""
    first = memory.first_entry(slot)
    if first is None:
        return None
    start = memory.starts[slot]
    refs = [(first.key, first.masks)] + [(k, m) for step, k, m in appearance if step > start]
    refs = [(k[None], slot_row(m, slot)[None]) for k, m in refs]
    # A readout against a reference where the object covers a handful of key cells swings
    # with every change of pose or blur; such references are not used (presence: None).
    return [(k, m) for k, m in refs if float(m.sum()) >= least] or None


def read_presence(key: torch.Tensor, refs: list[tuple[torch.Tensor, torch.Tensor]], mask: np.ndarray,
                  log_temperature: torch.Tensor) -> float:
    """How much ``mask`` (H, W) float looks like the object of ``refs``, 0..1 (0 for an empty mask):
    for each reference, the mask-weighted mean of this frame's readout against that reference
    alone; the best of them. key: (1, C, h, w) of this frame.

    The best, not one readout against all references together: a reference whose mask was
    wrong (too small, say) would then call the object's own pixels background, and a
    returning object that looks as on its first frame would not be recognised."""
    weights = resize_probs(mask[None], tuple(key.shape[-2:]))[0].flatten()
    where = torch.nonzero(weights > 0)[:, 0]
    if not len(where):
        return 0.0
    # Only positions under the mask are read out, at most PRESENCE_SAMPLES of them evenly
    # spread: the mean is what is wanted, and reading out a large object whole took 45 ms.
    where = where[:: -(-len(where) // PRESENCE_SAMPLES)]
    query = key.flatten(2)[:, :, where].unsqueeze(2)  # (1, C, 1, n)
    weights = weights[where]
    scores = [float((match_references(query, keys, masks, log_temperature)[0, 0, 0, 0] * weights).sum())
              for keys, masks in refs]
    return max(scores) / float(weights.sum())
