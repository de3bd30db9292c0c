"""One video's segmentation session: prompts in, a generator of label maps out.

The session holds the frames' source, the user's prompts (masks, or masks made from boxes and
clicks), the mapping of object ids to slots and the label map of every frame it has segmented;
the weights and the method live elsewhere, so one segmenter serves many sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from vidseg.engine.interactive.corrections import ClickLike, SelectionCache, check_clicks, check_object_id
from vidseg.engine.objects import ObjectManager
from vidseg.engine.propagator import Propagator
from vidseg.engine.results import ResultStore
from vidseg.errors import InputError
from vidseg.io.frames import FrameSource
from vidseg.io.masks import fit_mask_to_frame
from vidseg.ops.boxes import Box, check_box
from vidseg.ops.slots import apply_prompt, one_hot, pad_slots, to_slots

if TYPE_CHECKING:
    from vidseg.engine.interactive.click_segmenter import ClickSegmenter
    from vidseg.nn.interactive import InteractiveNet


def load_default_interactive() -> InteractiveNet:
    """The shipped interactive network (the registry loads it once per process)."""
    from vidseg.engine.interactive.click_segmenter import load_interactive  # needs torch

    return load_interactive("default")


@dataclass
class Prompt:
    """The user's masks on one frame: ``labels`` (H, W) uint8 object ids and the ids it defines.

    An id in ``objects`` with no pixel in ``labels`` says the object is absent from this frame
    (a correction erased it), which a label map alone cannot say."""

    labels: np.ndarray
    objects: frozenset[int]


@dataclass
class SessionState:
    """What the user has told the session, and what it has produced.

    prompts: by frame index. results: the latest label map of every segmented frame. pending:
    frames whose prompt changed since a pass last went through them; the next pass starts at
    the first of them. selections: the click selections that ``add_clicks`` continues.
    """

    prompts: dict[int, Prompt] = field(default_factory=dict)
    objects: ObjectManager = field(default_factory=ObjectManager)
    results: ResultStore = field(default_factory=ResultStore)
    pending: set[int] = field(default_factory=set)
    selections: SelectionCache = field(default_factory=SelectionCache)


@dataclass(frozen=True)
class SessionSnapshot:
    """What a session holds, to show it or to store it and :meth:`Session.restore` it later.

    objects: the object ids, in the order the session met them. prompts: by frame. pending: frames
    whose prompt changed since a pass last went through them. computed: frames with a result
    (their label maps: :meth:`Session.result`, kept out of the snapshot as they are large)."""

    objects: tuple[int, ...] = ()
    prompts: Mapping[int, Prompt] = field(default_factory=dict)
    pending: frozenset[int] = frozenset()
    computed: frozenset[int] = frozenset()


class Session:
    """Segments one video. Use as a context manager so the source is closed.

    interactive_net: gives the network behind ``add_box`` and ``add_clicks``, called at the first box
    or click (the segmenter's :meth:`~vidseg.engine.segmenter.VideoSegmenter.interactive_net`, which
    loads it once for all its sessions); the default loads the shipped one.
    """

    def __init__(self, source: FrameSource, propagator: Propagator,
                 interactive_net: Callable[[], InteractiveNet] = load_default_interactive) -> None:
        self.source = source
        self.propagator = propagator
        self.interactive_net = interactive_net
        self.state = SessionState()
        self._click_segmenter: ClickSegmenter | None = None

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
        frame = self._check_frame(frame, "mask")
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise InputError(f"a mask must be a 2-D map of object ids, got shape {mask.shape}")
        if mask.size and (mask.min() < 0 or mask.max() > 255):
            raise InputError("mask object ids must lie in 0..255 (0 is background)")
        mask = fit_mask_to_frame(mask.astype(np.uint8), self.source.height, self.source.width)
        if not mask.any():
            raise InputError(f"the mask for frame {frame} has no object (every pixel is 0)")
        self._set_prompt(frame, mask, {int(v) for v in np.unique(mask) if v})

    def add_box(self, frame: int, obj_id: int, box: Box) -> np.ndarray:
        """Select object ``obj_id`` on frame ``frame`` by a box (x0, y0, x1, y1 pixels; x1, y1 exclusive).

        A new object starts there; an existing one restarts from the box's mask on that frame.
        Returns the frame's label map (H, W) uint8 with the object's new mask."""
        frame = self._check_frame(frame, "box")
        obj_id = check_object_id(obj_id)
        box = check_box(box, self.source.width, self.source.height)
        clicker = self._clicker()
        clicker.start(self.source.read(frame), box=box)
        return self._commit_selection(frame, obj_id, clicker)

    def add_clicks(self, frame: int, obj_id: int, clicks: Iterable[ClickLike]) -> np.ndarray:
        """Select or correct object ``obj_id`` on frame ``frame`` by clicks (Click or (x, y, positive)).

        If the object has a mask on that frame (given, from a box or clicks, or propagated), the
        clicks correct it, continuing the frame's last selection of this object when there is one.
        Otherwise the first click must be positive: it selects the object under it. The result
        becomes the object's prompt on that frame. Returns the frame's label map (H, W) uint8."""
        frame = self._check_frame(frame, "clicks")
        obj_id = check_object_id(obj_id)
        clicks = check_clicks(clicks, self.source.width, self.source.height)
        current = self.labels(frame) == obj_id
        selection = self.state.selections.get(frame, obj_id, current)
        if selection is None and not current.any() and not clicks[0].positive:
            raise InputError(f"object {obj_id} is not on frame {frame}, so its first click must be positive "
                             "(on the object) to select it")
        clicker = self._clicker()
        if selection is not None:
            clicker.state = selection
        elif current.any():
            clicker.start(self.source.read(frame), mask=current)
        else:
            clicker.start(self.source.read(frame), click=(clicks[0].x, clicks[0].y))
            clicks = clicks[1:]
        for c in clicks:
            clicker.click(c.x, c.y, c.positive)
        return self._commit_selection(frame, obj_id, clicker)

    def result(self, frame: int) -> np.ndarray | None:
        """The label map (H, W) uint8 the last pass through ``frame`` gave, or None if none has."""
        return self.state.results.get(self._check_frame(frame, "result asked"))

    def labels(self, frame: int) -> np.ndarray:
        """What the session holds for ``frame`` now: its result (or empty) with its prompt on top.

        (H, W) uint8. Differs from :meth:`result` on a frame prompted since the last pass."""
        frame = self._check_frame(frame, "labels asked")
        labels = self.state.results.get(frame)
        if labels is None:
            labels = np.zeros((self.source.height, self.source.width), np.uint8)
        prompt = self.state.prompts.get(frame)
        return labels if prompt is None else overlay(labels, prompt.labels, prompt.objects)

    def prompt(self, frame: int) -> Prompt | None:
        """The user's prompt on ``frame`` (masks, boxes and clicks made into masks), or None."""
        return self.state.prompts.get(self._check_frame(frame, "prompt asked"))

    def set_prompt(self, frame: int, prompt: Prompt | None) -> None:
        """Put back ``frame``'s prompt as a whole (an editor's undo): ``prompt`` replaces what the frame
        holds, None removes it. The frame's click selections are dropped, as they continued the
        replaced prompt; a frame given a prompt is pending, one whose prompt is removed is not."""
        frame = self._check_frame(frame, "prompt")
        self.state.selections.drop_frame(frame)
        if prompt is None:
            self.state.prompts.pop(frame, None)
            self.state.pending.discard(frame)
            return
        for obj_id in sorted(prompt.objects):
            self.state.objects.add(obj_id)
        self.state.prompts[frame] = Prompt(np.asarray(prompt.labels, np.uint8), frozenset(prompt.objects))
        self.state.pending.add(frame)

    def remove_object(self, obj_id: int) -> list[int]:
        """Forget object ``obj_id``: its pixels leave every prompt and result (they become background),
        a prompt left with no object goes, and the other objects keep their ids. Returns the frames
        whose result changed, so a caller keeping results elsewhere can rewrite them."""
        obj_id = check_object_id(obj_id)
        if obj_id not in self.state.objects and not any(obj_id in p.objects for p in self.state.prompts.values()):
            raise InputError(f"object {obj_id} is not in this video; nothing to delete")
        for frame, prompt in list(self.state.prompts.items()):
            if obj_id in prompt.objects:
                self.set_prompt(frame, Prompt(np.where(prompt.labels == obj_id, 0, prompt.labels).astype(np.uint8),
                                              prompt.objects - {obj_id}) if len(prompt.objects) > 1 else None)
        changed = []
        for frame in self.state.results.frames():
            labels = self.state.results.get(frame)
            if (labels == obj_id).any():
                self.state.results.put(frame, np.where(labels == obj_id, 0, labels).astype(np.uint8))
                changed.append(frame)
        # Slots are handed out in order and never reused; a new manager without the object keeps the
        # others' order (each pass resets the propagator, so slots need not survive between passes).
        kept = ObjectManager()
        for other in self.state.objects.ids:
            if other != obj_id:
                kept.add(other)
        self.state.objects = kept
        return changed

    def snapshot(self) -> SessionSnapshot:
        """What the session holds now (see :class:`SessionSnapshot`); later edits do not change it."""
        state = self.state
        return SessionSnapshot(objects=tuple(state.objects.ids), prompts=dict(state.prompts),
                               pending=frozenset(state.pending), computed=frozenset(state.results.frames()))

    def restore(self, snapshot: SessionSnapshot, read_result: Callable[[int], np.ndarray]) -> None:
        """Take back a stored :meth:`snapshot` into this freshly opened session; ``read_result(frame)``
        gives the (H, W) uint8 label map of each of its computed frames.

        Click selections are not restored: corrections after a restore start from the frame's mask."""
        if self.state.prompts or len(self.state.results) or self.state.objects.ids:
            raise InputError("restore() needs a freshly opened session; this one has objects, prompts or results")
        frames = [*snapshot.prompts, *snapshot.pending, *snapshot.computed]
        for frame in frames:
            self._check_frame(frame, "a stored prompt or result")
        state = SessionState()
        for obj_id in snapshot.objects:
            state.objects.add(obj_id)
        state.prompts.update(snapshot.prompts)
        state.pending.update(snapshot.pending)
        for frame in sorted(snapshot.computed):
            state.results.put(frame, read_result(frame))
        self.state = state

    def propagate(self, start: int | None = None, reverse: bool = False) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame_index, label_map)`` from ``start`` to the end (or to frame 0 if reverse).

        label_map: HxW uint8 object ids. ``start`` defaults to the first frame, in the direction
        of travel, whose prompt changed since a pass last went through it (a mask, box or clicks
        added or corrected there), else to the first prompted frame. It must hold a prompt or a
        result. The pass starts from the frame's result with its prompt on top, so objects
        segmented there before carry on; prompts met on the way add or reset objects; each frame
        passed replaces its stored result.
        """
        for index, _, labels in self.propagate_frames(start, reverse):
            yield index, labels

    def propagate_frames(
        self, start: int | None = None, reverse: bool = False, include_unprompted: bool = False
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """As :meth:`propagate`, also yielding each frame: ``(index, frame HxWx3 uint8, label_map)``.

        include_unprompted: begin at the video's first frame in the direction of travel and yield
        the stored result (or an empty map) until ``start``, so a writer sees every frame once, in order.
        """
        if not self.state.prompts:
            raise InputError("no object to segment: add a mask, a box or clicks before propagating")
        start = self._start_frame(start, reverse)
        first = (self.num_frames - 1 if reverse else 0) if include_unprompted else start
        step = -1 if reverse else 1
        self.propagator.reset()
        probs: np.ndarray | None = None
        for index, frame in self.source.iter_frames(first, None, step):
            if (index - start) * step < 0:
                stored = self.state.results.get(index)
                yield index, frame, np.zeros(frame.shape[:2], np.uint8) if stored is None else stored
                continue
            probs = self._frame_probs(index, frame, probs is None)
            self.propagator.update(frame, probs, prompted=index in self.state.prompts)
            labels = self.state.objects.slots_to_ids(to_slots(probs))
            self.state.results.put(index, labels)
            self.state.pending.discard(index)
            yield index, frame, labels

    def lost_objects(self) -> set[int]:
        """Ids of the objects that re-finding holds lost (hidden) after the last frame propagated;
        empty when re-finding is off or the method has none."""
        lost_slots = getattr(self.propagator, "lost_slots", None)
        if lost_slots is None:
            return set()
        ids = self.state.objects.ids
        return {ids[slot - 1] for slot in lost_slots() if slot <= len(ids)}

    def _check_frame(self, frame: int, what: str) -> int:
        if isinstance(frame, (bool, np.bool_)) or not isinstance(frame, (int, np.integer)):
            raise InputError(f"{what} given for frame {frame!r}; a frame is an integer index 0..{self.num_frames - 1}")
        if not 0 <= frame < self.num_frames:
            raise InputError(f"{what} given for frame {frame}, but the video has frames 0..{self.num_frames - 1}")
        return int(frame)

    def _set_prompt(self, frame: int, labels: np.ndarray, objects: set[int]) -> None:
        """Make ``labels``' pixels of ``objects`` the prompt of those objects on ``frame``; pixels
        they claim are taken from other objects, the other objects' prompts stay."""
        previous = self.state.prompts.get(frame)
        if previous is not None:
            labels = overlay(previous.labels, labels, objects)
            objects = previous.objects | objects
        self.state.prompts[frame] = Prompt(labels, frozenset(objects))
        self.state.pending.add(frame)

    def _commit_selection(self, frame: int, obj_id: int, clicker: ClickSegmenter) -> np.ndarray:
        """The click segmenter's mask becomes ``obj_id``'s prompt on ``frame``; its selection is kept."""
        mask = clicker.mask
        self._set_prompt(frame, np.where(mask, obj_id, 0).astype(np.uint8), {obj_id})
        self.state.selections.put(frame, obj_id, clicker.state)
        return self.labels(frame)

    def _clicker(self) -> ClickSegmenter:
        if self._click_segmenter is None:
            # Imported here: it needs torch, which sessions that only take masks never load.
            from vidseg.engine.interactive.click_segmenter import ClickSegmenter

            # The network as the segmenter built it for its backend: "torch" leaves it as it is.
            self._click_segmenter = ClickSegmenter(self.interactive_net(), backend="torch")
        return self._click_segmenter

    def _start_frame(self, start: int | None, reverse: bool) -> int:
        if start is None:
            candidates = self.state.pending or self.state.prompts.keys()
            return max(candidates) if reverse else min(candidates)
        if not 0 <= start < self.num_frames:
            raise InputError(f"start frame {start} is outside the video's frames 0..{self.num_frames - 1}")
        if start not in self.state.prompts and start not in self.state.results:
            raise InputError(f"no mask on start frame {start}, and it has not been segmented yet; "
                             "add one there or start at a prompted frame")
        return start

    def _frame_probs(self, index: int, frame: np.ndarray, first: bool) -> np.ndarray:
        """(K + 1, H, W) probabilities for frame ``index``: propagated (on a pass's first frame,
        its stored result), then prompted."""
        objects = self.state.objects
        if first:
            stored = self.state.results.get(index)
            if stored is None:
                stored = np.zeros((self.source.height, self.source.width), np.uint8)
            slots = objects.ids_to_slots(stored)
            probs = one_hot(slots, objects.num_objects + 1)
        else:
            probs = self.propagator.predict(frame)
        prompt = self.state.prompts.get(index)
        if prompt is None:
            return probs
        slots = objects.ids_to_slots(prompt.labels)
        defined = [objects.add(obj_id) for obj_id in sorted(prompt.objects)]
        probs = pad_slots(probs, objects.num_objects + 1)
        return apply_prompt(probs, slots, defined)

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def overlay(base: np.ndarray, top: np.ndarray, objects: Iterable[int]) -> np.ndarray:
    """``base`` (H, W uint8 ids) with ``objects`` taking exactly their pixels of ``top``.

    Pixels ``top`` gives to an object are taken from whatever held them; pixels ``objects`` held
    in ``base`` but not in ``top`` become background; other objects keep their other pixels.
    The same rule as :func:`apply_prompt`, on label maps."""
    kept = np.where(np.isin(base, list(objects)), 0, base)
    return np.where(top > 0, top, kept).astype(np.uint8)
