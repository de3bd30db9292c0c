"""The propagation network as a session's method: memory, flow prior, adaptation, fusion.

Per frame: the previous result is carried into the frame by optical flow (the prior, seed 001's
mask 3); the network matches the frame against the reference frames the memory policy picks
(seed 002) and decodes each object; the per-session refine head (seed 000's online adaptation)
gives the masks, which are upsampled to full resolution along the frame's edges and fused with
the prior. The network works at a reduced internal resolution, so memory and time per frame do
not grow with the video's resolution or length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from vidseg.engine.vos.adapt import AdaptExample, HeadAdapter, example_from_mask
from vidseg.engine.vos.memory_bank import MemoryBank, MemoryEntry, resize_probs, slot_row
from vidseg.engine.vos.memory_policy import MemoryPolicy
from vidseg.engine.vos.presets import PropagatorConfig
from vidseg.engine.vos.redetect import Redetector
from vidseg.engine.vos.redetect_memory import RedetectMemory
from vidseg.flow.fusion import FlowFusion
from vidseg.nn.propagation import INPUT_MULTIPLE, KEY_STRIDE, FrameFeatures, PropagationNet, RefineInputs
from vidseg.ops.guided_filter import guided_upsample
from vidseg.ops.slots import soft_aggregate

if TYPE_CHECKING:
    from vidseg.nn.polar import PolarTrackerNet


@dataclass
class Predicted:
    """What :meth:`NetworkPropagator.predict` leaves for the following ``update`` of the same frame:
    its step, key (V, C, h, w) (V = 2 with the mirrored view) and the refine inputs it was segmented with."""

    step: int
    key: torch.Tensor
    inputs: RefineInputs


@dataclass
class PassState:
    """What one propagate pass carries from frame to frame; :meth:`NetworkPropagator.reset` starts a new one.

    step: the last frame's step (-1 before the first). previous: the last frame's final (K + 1, H, W)
    probabilities. predicted: set by ``predict``, taken by ``update``. memory: the reference frames.
    adapter: the refine head adapted to this pass. mirrored: the reference frames mirrored left to
    right, with their masks mirrored too (only with ``PropagatorConfig.mirror``)."""

    memory: MemoryBank
    adapter: HeadAdapter
    mirrored: MemoryBank | None = None
    step: int = -1
    previous: np.ndarray | None = None
    predicted: Predicted | None = None


class NetworkPropagator:
    name = "network"

    def __init__(self, model: PropagationNet, config: PropagatorConfig, tracker: PolarTrackerNet | None = None) -> None:
        """tracker: the re-finder's network (loaded by the segmenter); None loads ``config.refind.tracker``."""
        self.model = model.eval()
        self.config = config
        self.policy = MemoryPolicy(config.memory)
        self.fusion = FlowFusion(config.fusion) if config.fusion is not None else None
        self.refind = RedetectMemory(Redetector(config.refind, model=tracker)) if config.refind is not None else None
        self.reset()

    @property
    def redetector(self) -> Redetector | None:
        return self.refind.redetector if self.refind is not None else None

    def lost_slots(self) -> set[int]:
        """Slots (1-based) of the objects re-finding holds lost after the last frame (none without it)."""
        redetector, previous = self.redetector, self.state.previous
        if redetector is None or previous is None:
            return set()
        return {slot for slot in range(1, previous.shape[0]) if redetector.lost(slot)}

    @property
    def memory(self) -> MemoryBank:
        """The reference frames of the current pass."""
        return self.state.memory

    @property
    def adapter(self) -> HeadAdapter:
        """The refine head adapted to the current pass."""
        return self.state.adapter

    def reset(self) -> None:
        self.state = PassState(memory=MemoryBank(self.policy),
                               adapter=HeadAdapter(self.model.decoder.refine, self.config.adapt),
                               mirrored=MemoryBank(self.policy) if self.config.mirror else None)
        if self.fusion is not None:
            self.fusion.reset()
        if self.refind is not None:
            self.refind.reset()

    @torch.no_grad()
    def predict(self, frame: np.ndarray) -> np.ndarray:
        """Frame (HxWx3 uint8) -> (K + 1, H, W) probabilities."""
        state = self.state
        if state.previous is None:
            raise RuntimeError("NetworkPropagator.predict called before any update")
        state.step += 1
        warped = self.fusion.warp_previous(frame) if self.fusion is not None else None
        prior_full = warped.probs if warped is not None else state.previous
        image = self._to_tensor(frame)
        feats = self._encode_views(image)
        num_objects = state.previous.shape[0] - 1
        prior = resize_probs(prior_full[1:], image.shape[-2:]).unsqueeze(1)  # (K, 1, h, w)
        inputs = self.model.decoder.trunk(_view(feats, 0).repeat(num_objects),
                                          self._matches(_view(feats, 0), num_objects, state.memory), prior)
        objects = torch.sigmoid(state.adapter.head(inputs))[:, 0]  # (K, h/2, w/2)
        if state.mirrored is not None:  # the same frame mirrored, against the mirrored memory
            seen = _view(feats, 1)
            mirrored = self.model.decoder.trunk(seen.repeat(num_objects),
                                                self._matches(seen, num_objects, state.mirrored), prior.flip(-1))
            objects = (objects + torch.sigmoid(state.adapter.head(mirrored))[:, 0].flip(-1)) / 2
        objects = objects.numpy()
        probs = self._upsample(soft_aggregate(objects), frame)
        state.predicted = Predicted(state.step, feats.key, inputs)
        probs = self.fusion.fuse(probs, warped) if warped is not None else probs
        if self.refind is not None:
            probs = self.refind.review(frame, probs, state.memory, feats.key[:1], self.model.log_temperature)
        return probs

    @torch.no_grad()
    def update(self, frame: np.ndarray, probs: np.ndarray, prompted: bool = False) -> None:
        """Remember the frame with its final (K + 1, H, W) probabilities; adapt when due."""
        state = self.state
        if self.refind is not None:
            probs = self.refind.probs_to_remember(probs, prompted)
        predicted, state.predicted = state.predicted, None
        if predicted is None:  # the pass's first frame: nothing was predicted for it
            state.step += 1
            key, inputs = self._encode_views(self._to_tensor(frame)).key, None
        else:
            key, inputs = predicted.key, predicted.inputs
        h, w = key.shape[-2:]
        half = (h * KEY_STRIDE // 2, w * KEY_STRIDE // 2)  # stride 2, where the refine head works
        masks = resize_probs(probs[1:], (h, w))  # (K, h, w)
        entry = MemoryEntry(key=key[0].flatten(1), masks=masks.flatten(1),
                            inputs=inputs, result=resize_probs(probs[1:], half).unsqueeze(1))
        state.memory.add(state.step, entry, prompted)
        if state.mirrored is not None:
            state.mirrored.add(state.step, MemoryEntry(key=key[1].flatten(1), masks=masks.flip(-1).flatten(1),
                                                       inputs=None, result=entry.result.flip(-1)), prompted)
        if self.fusion is not None:
            self.fusion.update(frame, probs)
        state.previous = probs
        if self.refind is not None:
            self.refind.remember(state.step, frame, probs, entry, prompted)
        self._adapt(frame, prompted)

    def _matches(self, feats: FrameFeatures, num_objects: int, memory: MemoryBank) -> torch.Tensor:
        """(K, 6, h8, w8): long- and short-term matching for every object against ``memory``.

        An object is matched only against frames from its own start on: earlier frames may show it
        unlabelled, and their masks would say it is background. Objects with the same reference
        frames (those started together) are matched in one call, which computes the similarity
        to those frames once for all of them."""
        step = self.state.step
        previous = memory[step - 1]
        candidates = memory.long_steps(step)
        groups: dict[tuple[int, ...], list[int]] = {}
        for slot in range(num_objects):
            start = memory.starts[slot]
            steps = tuple(s for s in candidates if s >= start) or (step - 1,)
            groups.setdefault(steps, []).append(slot)
        out: list[torch.Tensor | None] = [None] * num_objects
        for long_steps, slots in groups.items():
            long_keys = torch.cat([memory[s].key for s in long_steps], dim=1)[None]
            long_masks = torch.cat([_slot_rows(memory[s].masks, slots) for s in long_steps], dim=1)[None]
            matched = self.model.read(feats.key, long_keys, long_masks, previous.key[None],
                                      _slot_rows(previous.masks, slots)[None])[0]
            for i, slot in enumerate(slots):
                out[slot] = matched[i]
        return torch.stack(out)

    def _adapt(self, frame: np.ndarray, prompted: bool) -> None:
        if not self.config.adapt.enabled:
            return
        state = self.state
        entry = state.memory[state.step]
        if prompted:
            examples = self._first_frame_examples(frame, entry)
            state.adapter.fit(examples, self.config.adapt.first_steps)
            return
        if not state.adapter.due(state.step):
            return
        steps = state.memory.adaptation_steps(state.step)
        examples = [example_from_mask(e.inputs, e.result, self.config.adapt.confident)
                    for e in (state.memory.get(s) for s in set(steps)) if e is not None and e.inputs is not None]
        state.adapter.fit(examples, self.config.adapt.steps)

    def _first_frame_examples(self, frame: np.ndarray, entry: MemoryEntry, count: int = 2) -> list[AdaptExample]:
        """Examples from the prompted frame: if it was predicted, the prediction's inputs with the
        user's mask; plus augmented copies of the frame matched against it (OSVOS's lucid data)."""
        examples = []
        if entry.inputs is not None:
            examples.append(example_from_mask(entry.inputs, entry.result, None))
        image = self._to_tensor(frame)
        masks = entry.result  # (K, 1, h/2, w/2)
        full_masks = F.interpolate(masks, size=image.shape[-2:], mode="bilinear", align_corners=False)
        generator = torch.Generator().manual_seed(self.state.step)
        for _ in range(count):
            theta = _random_affine(generator, 0.08, 0.1, 10.0)
            aug_image = _affine(image, theta)
            aug_masks = _affine(full_masks, theta)
            prior = _affine(aug_masks, _random_affine(generator, 0.03, 0.05, 4.0))
            feats = self.model.encode(aug_image)
            key = entry.key[None]  # the original frame is both the long- and the short-term reference
            matches = torch.cat([
                self.model.read(feats.key, key, entry.masks[o : o + 1][None], key, entry.masks[o : o + 1][None])[0]
                for o in range(entry.masks.shape[0])
            ])
            inputs = self.model.decoder.trunk(feats.repeat(entry.masks.shape[0]), matches, prior)
            target = F.adaptive_avg_pool2d(aug_masks, inputs.d2.shape[-2:])
            examples.append(example_from_mask(inputs, target, None))
        return examples

    def _encode_views(self, image: torch.Tensor) -> FrameFeatures:
        """Features of (1, 3, h, w) ``image`` as V items: the image, and with ``config.mirror`` also
        the image mirrored left to right. One encoder call per view: on a CPU a batch of two took
        3.5x one image's time (measured at 288-336 px), two calls 2x."""
        feats = self.model.encode(image)
        if not self.config.mirror:
            return feats
        mirrored = self.model.encode(image.flip(-1))
        return FrameFeatures(*(torch.cat(pair) for pair in zip(_fields(feats), _fields(mirrored))))

    def _upsample(self, probs: np.ndarray, frame: np.ndarray) -> np.ndarray:
        """(K+1, h, w) -> (K+1, H, W) at the frame's size."""
        if self.config.upsample == "guided":
            return guided_upsample(probs, frame, self.config.guided_radius, self.config.guided_eps)
        height, width = frame.shape[:2]
        return np.stack([cv2.resize(p, (width, height), interpolation=cv2.INTER_LINEAR) for p in probs])

    def _internal_size(self, height: int, width: int) -> tuple[int, int]:
        scale = min(1.0, self.config.internal_height / height)
        m = INPUT_MULTIPLE
        return max(m, round(height * scale / m) * m), max(m, round(width * scale / m) * m)

    def _to_tensor(self, frame: np.ndarray) -> torch.Tensor:
        """(H, W, 3) uint8 -> (1, 3, h, w) float in [0, 1] at the internal size."""
        h, w = self._internal_size(*frame.shape[:2])
        small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
        return torch.from_numpy(small).permute(2, 0, 1)[None].float().div_(255.0)


def _fields(feats: FrameFeatures) -> tuple[torch.Tensor, ...]:
    return feats.f2, feats.f4, feats.f8, feats.key


def _view(feats: FrameFeatures, index: int) -> FrameFeatures:
    """Batch item ``index`` of ``feats`` (one of :meth:`NetworkPropagator._encode_views`), batch kept."""
    return FrameFeatures(*(t[index : index + 1] for t in _fields(feats)))


def _slot_rows(masks: torch.Tensor, slots: list[int]) -> torch.Tensor:
    """(len(slots), M): the rows of masks (K, M) for ``slots``, empty where an object did not exist yet."""
    return torch.cat([slot_row(masks, slot) for slot in slots])


def _random_affine(generator: torch.Generator, shift: float, scale: float, degrees: float) -> torch.Tensor:
    """A (1, 2, 3) affine for ``F.affine_grid``: small random shift, zoom and rotation."""
    u = torch.rand(4, generator=generator) * 2 - 1
    angle = torch.deg2rad(u[0] * degrees)
    zoom = 1 + u[1] * scale
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    return torch.tensor([[[cos, -sin, u[2] * shift * 2], [sin, cos, u[3] * shift * 2]]])


def _affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
