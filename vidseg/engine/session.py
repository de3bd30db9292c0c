"""One video's segmentation session: prompts in, a generator of label maps out.

The session holds the frames' source, the user's prompts and the mapping of object ids to slots;
the weights and the method live elsewhere, so one segmenter serves many sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from vidseg.engine.objects import ObjectManager
from vidseg.engine.probs import apply_prompt, pad_slots, to_slots
from vidseg.engine.propagator import Propagator
from vidseg.errors import InputError
from vidseg.io.frames import FrameSource
from vidseg.io.masks import fit_mask_to_frame


@dataclass
class SessionState:
    """What the user has told the session: masks by frame index (HxW uint8 object ids)."""

    prompts: dict[int, np.ndarray] = field(default_factory=dict)
    objects: ObjectManager = field(default_factory=ObjectManager)


class Session:
    """Segments one video. Use as a context manager so the source is closed."""

    def __init__(self, source: FrameSource, propagator: Propagator) -> None:
        self.source = source
        self.propagator = propagator
        self.state = SessionState()

    @property
    def num_frames(self) -> int:
        return len(self.source)

    @property
    def stems(self) -> list[str]:
        return self.source.stems

    def add_mask(self, frame: int, mask: np.ndarray) -> None:
        """Give the objects of ``mask`` (HxW integer object ids, 0 background) on frame ``frame``.

        Objects it contains start (or restart) from this mask at this frame; objects it does not
        contain are left as they are. A mask a pixel or two off the frame size is padded or
        cropped (see ``fit_mask_to_frame``); a larger mismatch is refused.
        """
        if not 0 <= frame < self.num_frames:
            raise InputError(
                f"mask given for frame {frame}, but the video has frames 0..{self.num_frames - 1}"
            )
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise InputError(f"a mask must be a 2-D map of object ids, got shape {mask.shape}")
        if mask.size and (mask.min() < 0 or mask.max() > 255):
            raise InputError("mask object ids must lie in 0..255 (0 is background)")
        mask = fit_mask_to_frame(mask.astype(np.uint8), self.source.height, self.source.width)
        if not mask.any():
            raise InputError(f"the mask for frame {frame} has no object (every pixel is 0)")
        previous = self.state.prompts.get(frame)
        if previous is not None:
            mask = np.where(mask > 0, mask, np.where(np.isin(previous, np.unique(mask)), 0, previous))
        self.state.prompts[frame] = mask

    def propagate(self, start: int | None = None, reverse: bool = False) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame_index, label_map)`` from ``start`` to the end (or to frame 0 if reverse).

        label_map: HxW uint8 object ids. ``start`` defaults to the first prompted frame in the
        direction of travel; it must hold a prompt. Prompts met on the way add or reset objects.
        """
        for index, _, labels in self.propagate_frames(start, reverse):
            yield index, labels

    def propagate_frames(
        self, start: int | None = None, reverse: bool = False, include_unprompted: bool = False
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """As :meth:`propagate`, also yielding each frame: ``(index, frame HxWx3 uint8, label_map)``.

        include_unprompted: begin at the video's first frame in the direction of travel and yield
        empty label maps until ``start``, so a writer sees every frame once, in order.
        """
        if not self.state.prompts:
            raise InputError("no object to segment: add a mask before propagating")
        start = self._start_frame(start, reverse)
        first = (self.num_frames - 1 if reverse else 0) if include_unprompted else start
        step = -1 if reverse else 1
        self.propagator.reset()
        probs: np.ndarray | None = None
        for index, frame in self.source.iter_frames(first, None, step):
            if (index - start) * step < 0:
                yield index, frame, np.zeros(frame.shape[:2], dtype=np.uint8)
                continue
            probs = self._frame_probs(index, frame, probs is None)
            self.propagator.update(frame, probs, prompted=index in self.state.prompts)
            yield index, frame, self.state.objects.slots_to_ids(to_slots(probs))

    def _start_frame(self, start: int | None, reverse: bool) -> int:
        if start is None:
            return max(self.state.prompts) if reverse else min(self.state.prompts)
        if not 0 <= start < self.num_frames:
            raise InputError(f"start frame {start} is outside the video's frames 0..{self.num_frames - 1}")
        if start not in self.state.prompts:
            raise InputError(f"no mask on start frame {start}; add one there or start at a prompted frame")
        return start

    def _frame_probs(self, index: int, frame: np.ndarray, first: bool) -> np.ndarray:
        """(K + 1, H, W) probabilities for frame ``index``: propagated, then prompted."""
        objects = self.state.objects
        if first:
            probs = np.zeros((1, self.source.height, self.source.width), dtype=np.float32)
            probs[0] = 1.0
        else:
            probs = self.propagator.predict(frame)
        prompt = self.state.prompts.get(index)
        if prompt is None:
            return probs
        slots = objects.ids_to_slots(prompt)
        probs = pad_slots(probs, objects.num_objects + 1)
        return apply_prompt(probs, slots, [int(s) for s in np.unique(slots) if s])

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
