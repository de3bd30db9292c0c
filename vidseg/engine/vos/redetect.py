"""Finding an object again after the propagation lost it: the polar tracker as a proposal source.

A propagated mask can go wrong in two ways that the propagation cannot see: the object is hidden
(something passes in front of it, it leaves the frame) and the mask stays on whatever covers it,
and when the object comes back the mask is elsewhere or empty. Two pieces catch that:

- Presence: how much the pixels under a mask look like the object: the propagation network's
  readout against the object's prompted frame, and against each of a few recent frames on which
  nothing was lost, the best of them (``presence`` is given by the propagator). An object whose
  presence falls below ``lost_below`` times its usual presence (a running mean over healthy
  frames), or whose mask shrinks below ``area_below`` of its usual area, is lost: its mask is
  cleared in the result, so the hidden frames say "absent". The propagation itself goes on from
  its own prediction (see ``NetworkPropagator``), so a false alarm need not last: the object is
  found again as soon as the propagation's own mask passes the checks.
- Proposals: while lost, the polar tracker (seed 004), started on the prompted frame, searches the
  whole frame at the object's last size and offers its best ``candidates`` outlines, filled. With
  the propagation's own mask they are scored by presence, and the best one at ``found_above`` times
  the usual presence or more, and not too small, becomes the object's mask; the propagation carries
  on from it and sharpens it. (Handing an outline to the network as its previous mask and taking
  what it segments was tried: with nothing of the object in its recent memory, the network kept a
  sliver of the object, 2-8% of it on the bear sequence, where the outline overlapped 55-67%.)

Healthy frames cost one presence check per object; the tracker runs only while an object is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vidseg.errors import InputError
from vidseg.ops.boxes import Box
from vidseg.ops.slots import apply_prompt

if TYPE_CHECKING:
    from vidseg.engine.track.polar_tracker import PolarTracker
    from vidseg.nn.polar import PolarTrackerNet

Presence = Callable[[int, np.ndarray], float | None]
"""(slot, mask (H, W) float in 0..1) -> presence in 0..1, None when the object has no reference."""


@dataclass(frozen=True)
class RedetectConfig:
    """lost_below, found_above: shares of the object's usual presence (see the module docstring);
    area_below: a mask smaller than this share of the object's usual area is lost too, and no
    smaller one is taken as found; usual_rate: weight of a healthy frame in the running means;
    candidates: tracker proposals per lost frame; every, references: presence reads the object's
    first frame and the latest ``references`` frames taken every ``every`` frames while no object
    was lost (so it follows a slowly changing appearance); min_reference_cells: a reference frame
    counts only where the object covers at least this many cells of the network's key grid
    (stride 8 of the internal frame; 32 cells are ~2% of a 224x400 frame): with fewer, an object
    is not checked; tracker: "default" or a checkpoint from ``vidseg train tracker``."""

    # Chosen with the Lite0 networks on TRAIN data only: the propagation network trained on FIT, scored
    # on the six TUNE clips as is / hidden (benchmarks/refind.py; fast 77.4 / 58.9): lost_below,
    # area_below 0.6, 0.2 gave 70.0 / 68.8; 0.4, 0.2: 74.1 / 68.9; 0.4, 0.1: 74.4 / 69.2; 0.3, 0.1:
    # 76.3 / 69.9; 0.2, 0.1: 76.4 / 69.9; found_above 0.6 instead of 0.7: 76.2 / 67.6.
    lost_below: float = 0.3
    found_above: float = 0.7
    area_below: float = 0.1
    usual_rate: float = 0.1
    candidates: int = 3
    every: int = 5
    references: int = 3
    min_reference_cells: int = 32
    tracker: str = "default"

    def __post_init__(self) -> None:
        if not 0 <= self.area_below < 1:
            raise InputError(f"refind area_below {self.area_below} must lie in [0, 1)")
        if not 0 < self.lost_below <= self.found_above:
            raise InputError(f"refind thresholds lost_below {self.lost_below} and found_above {self.found_above}: "
                             "use 0 < lost_below <= found_above")
        if not 0 < self.usual_rate <= 1 or self.candidates < 0 or self.every < 1 or self.references < 0:
            raise InputError(f"refind usual_rate {self.usual_rate} must lie in (0, 1], candidates "
                             f"{self.candidates} and references {self.references} must not be negative, "
                             f"every {self.every} must be at least 1")


@dataclass
class _Watch:
    """One object: its tracker, usual presence and area (None until its first checked frame), and
    the last box seen."""

    tracker: PolarTracker
    usual: float | None = None
    area: float | None = None
    box: Box | None = None
    lost: bool = False


class Redetector:
    """Watches every prompted object of one pass; ``start`` on prompted frames, ``review`` on the others.

    model: the tracker network (a ``PolarTrackerNet``) instead of ``config.tracker``'s."""

    def __init__(self, config: RedetectConfig | None = None, model: PolarTrackerNet | None = None) -> None:
        self.config = config or RedetectConfig()
        self._net = _tracker_net(self.config.tracker) if model is None else model
        self._watches: dict[int, _Watch] = {}

    def reset(self) -> None:
        self._watches = {}

    def lost(self, slot: int) -> bool:
        """Whether object ``slot`` (1-based channel) is lost now."""
        watch = self._watches.get(slot)
        return watch is not None and watch.lost

    def start(self, frame: np.ndarray, probs: np.ndarray) -> None:
        """On a prompted frame: every object with pixels (re)starts its tracker from its mask's box.

        frame: (H, W, 3) uint8. probs: (K + 1, H, W), the frame's final probabilities."""
        from vidseg.engine.track.polar_tracker import PolarTracker

        for slot in range(1, probs.shape[0]):
            box = Box.from_mask(probs[slot] > 0.5)
            if box is None:
                continue
            tracker = PolarTracker(self._net, backend="torch")  # the network as loaded, for its backend
            tracker.start(frame, box)
            self._watches[slot] = _Watch(tracker, box=box)

    def review(self, frame: np.ndarray, probs: np.ndarray, presence: Presence) -> np.ndarray:
        """The propagated probabilities (K + 1, H, W) with lost objects cleared or found again."""
        for slot, watch in self._watches.items():
            if slot >= probs.shape[0]:
                continue
            present = probs[slot] > 0.5
            area = float(present.sum())
            score = presence(slot, probs[slot]) if area else 0.0
            if score is None:
                continue
            if not watch.lost and self._healthy(watch, score, area):
                watch.box = Box.from_mask(present) or watch.box
                continue
            if not watch.lost:
                watch.lost = True
                watch.tracker.place(watch.box)
            probs = self._refind(frame, probs, slot, watch, score, presence)
        return probs

    def _healthy(self, watch: _Watch, score: float, area: float) -> bool:
        """Whether presence ``score`` and ``area`` (pixels) are within the usual ones; a healthy
        frame moves the usual ones."""
        if watch.usual is None:
            if area == 0:  # nothing to learn the usual from yet
                return True
            watch.usual, watch.area = score, area
        c = self.config
        if score < c.lost_below * watch.usual or area < c.area_below * watch.area:
            return False
        watch.usual += c.usual_rate * (score - watch.usual)
        watch.area += c.usual_rate * (area - watch.area)
        return True

    def _refind(self, frame: np.ndarray, probs: np.ndarray, slot: int, watch: _Watch, own: float,
                presence: Presence) -> np.ndarray:
        """The lost object's best proposal, if good enough, becomes its mask; else it is cleared."""
        best_score, best_mask = own, probs[slot] > 0.5
        h, w = frame.shape[:2]
        for found in watch.tracker.search_frame(frame, self.config.candidates):
            mask = found.mask(h, w)
            score = presence(slot, mask.astype(np.float32)) if mask.any() else 0.0
            if score is not None and score > best_score and mask.sum() >= self.config.area_below * watch.area:
                best_score, best_mask = score, mask
        big_enough = best_mask.sum() >= self.config.area_below * watch.area
        if best_score >= self.config.found_above * watch.usual and big_enough:
            watch.lost, watch.box = False, Box.from_mask(best_mask) or watch.box
            watch.tracker.place(watch.box)
        else:
            best_mask = np.zeros((h, w), bool)
        return apply_prompt(probs, np.where(best_mask, slot, 0).astype(np.uint8), [slot])



def _tracker_net(name: str) -> PolarTrackerNet:
    """The tracker network (the registry loads each file once per process, so every session's
    Redetector shares it: it holds no per-video state; each object's PolarTracker does)."""
    from vidseg.engine.track.polar_tracker import load_tracker  # needs torch, as the network method does

    return load_tracker(name)
