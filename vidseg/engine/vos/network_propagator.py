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

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from vidseg.engine.vos.adapt import AdaptExample, HeadAdapter, example_from_mask
from vidseg.flow.fusion import FlowFusion
from vidseg.engine.vos.memory_policy import MemoryPolicy
from vidseg.engine.vos.presets import NetworkConfig
from vidseg.ops.slots import soft_aggregate
from vidseg.engine.vos.refind import Refinder
from vidseg.ops.guided_filter import guided_upsample
from vidseg.nn.propagation import (KEY_STRIDE, STRIDE, FrameFeatures, PropagationNet, RefineInputs, match_groups,
                                   match_references)


PRESENCE_SAMPLES = 256  # key positions per presence check (see _presence)


@dataclass
class MemoryEntry:
    """One remembered frame: key (C, M) on the key grid, masks (K, M) there, and for adaptation
    the refine inputs it was segmented with (None for a pass's first frame) and its result at
    stride 2 (K, 1, h, w)."""

    key: torch.Tensor
    masks: torch.Tensor
    inputs: RefineInputs | None
    result: torch.Tensor


class NetworkPropagator:
    name = "network"

    def __init__(self, model: PropagationNet, config: NetworkConfig) -> None:
        self.model = model.eval()
        self.config = config
        self.policy = MemoryPolicy(config.memory)
        self.fusion = FlowFusion(config.fusion) if config.fusion is not None else None
        self.refinder = Refinder(config.refind) if config.refind is not None else None
        self.reset()

    def reset(self) -> None:
        self._step = -1
        self._entries: dict[int, MemoryEntry] = {}
        self._pinned: list[int] = []  # prompted frames: each object's own first frame
        self._starts: list[int] = []  # step at which each slot's object started
        self._pending: tuple[int, torch.Tensor, RefineInputs] | None = None
        self._prev_probs: np.ndarray | None = None
        self._appearance: list[tuple[int, torch.Tensor, torch.Tensor]] = []  # (step, key, masks) for presence
        self._appearance_next: tuple[int, torch.Tensor, torch.Tensor] | None = None  # joins if nothing is lost
        self._own: np.ndarray | None = None  # the last prediction before the re-finder changed it
        self.adapter = HeadAdapter(self.model.decoder.refine, self.config.adapt)
        if self.fusion is not None:
            self.fusion.reset()
        if self.refinder is not None:
            self.refinder.reset()

    @torch.no_grad()
    def predict(self, frame: np.ndarray) -> np.ndarray:
        """Frame (HxWx3 uint8) -> (K + 1, H, W) probabilities."""
        if self._prev_probs is None:
            raise RuntimeError("NetworkPropagator.predict called before any update")
        self._step += 1
        warped = self.fusion.warp_previous(frame) if self.fusion is not None else None
        prior_full = warped.probs if warped is not None else self._prev_probs
        image = self._to_tensor(frame)
        feats = self.model.encode(image)
        num_objects = self._prev_probs.shape[0] - 1
        prior = self._resize_probs(prior_full[1:], image.shape[-2:])  # (K, h, w)
        matches = torch.cat([self._matches(feats, o) for o in range(num_objects)], dim=0)
        inputs = self.model.decoder.trunk(feats.repeat(num_objects), matches, prior.unsqueeze(1))
        objects = torch.sigmoid(self.adapter.head(inputs))[:, 0].numpy()  # (K, h/2, w/2)
        probs = self._upsample(soft_aggregate(objects), frame)
        self._pending = (self._step, feats.key, inputs)
        probs = self.fusion.fuse(probs, warped) if warped is not None else probs
        if self.refinder is not None:
            self._own = probs
            probs = self.refinder.review(frame, probs, presence=lambda slot, mask: self._presence(feats.key, slot, mask))
        return probs

    @torch.no_grad()
    def update(self, frame: np.ndarray, probs: np.ndarray, prompted: bool = False) -> None:
        """Remember the frame with its final (K + 1, H, W) probabilities; adapt when due."""
        probs = self._probs_to_remember(probs, prompted)
        pending, self._pending = self._pending, None
        if pending is None:  # the pass's first frame: nothing was predicted for it
            self._step += 1
            key, inputs = self.model.encode(self._to_tensor(frame)).key, None
        else:
            _, key, inputs = pending
        h, w = key.shape[-2:]
        num_objects = probs.shape[0] - 1
        self._starts += [self._step] * (num_objects - len(self._starts))
        half = (h * KEY_STRIDE // 2, w * KEY_STRIDE // 2)  # stride 2, where the refine head works
        entry = MemoryEntry(key=key[0].flatten(1), masks=self._resize_probs(probs[1:], (h, w)).flatten(1),
                            inputs=inputs, result=self._resize_probs(probs[1:], half).unsqueeze(1))
        self._entries[self._step] = entry
        if prompted:
            self._pinned.append(self._step)
        self._forget()
        if self.fusion is not None:
            self.fusion.update(frame, probs)
        self._prev_probs = probs
        if self.refinder is not None:
            self._remember_appearance(frame, probs, key, entry, prompted)
        self._adapt(frame, prompted)

    def _matches(self, feats: FrameFeatures, slot: int) -> torch.Tensor:
        """(1, 6, h8, w8): long- and short-term matching for object ``slot`` (0-based).

        An object is matched only against frames from its own start on: earlier frames may show it
        unlabelled, and their masks would say it is background."""
        start = self._starts[slot]
        previous = self._entries[self._step - 1]
        long_steps = [s for s in self._long_steps() if s >= start] or [self._step - 1]
        long_keys = torch.cat([self._entries[s].key for s in long_steps], dim=1)[None]
        long_masks = torch.cat([self._slot_mask(self._entries[s], slot) for s in long_steps], dim=1)[None]
        return match_groups(feats.key, long_keys, long_masks, previous.key[None], self._slot_mask(previous, slot)[None],
                            self.model.log_temperature)[0]

    def _presence(self, key: torch.Tensor, slot: int, mask: np.ndarray) -> float | None:
        """How much ``mask`` (H, W) float looks like object ``slot`` (1-based), 0..1 (0 for an empty
        mask): for each of its appearance references, the mask-weighted mean of this frame's
        readout against that reference alone; the best of them. key: (1, C, h, w) of this frame.
        None when the object has no usable reference (see :meth:`_appearance_refs`).

        The best, not one readout against all references together: a reference whose mask was
        wrong (too small, say) would then call the object's own pixels background, and a
        returning object that looks as on its first frame would not be recognised."""
        refs = self._appearance_refs(slot - 1)
        if refs is None:
            return None
        weights = self._resize_probs(mask[None], tuple(key.shape[-2:]))[0].flatten()
        where = torch.nonzero(weights > 0)[:, 0]
        if not len(where):
            return 0.0
        # Only positions under the mask are read out, at most PRESENCE_SAMPLES of them evenly
        # spread: the mean is what is wanted, and reading out a large object whole took 45 ms.
        where = where[:: -(-len(where) // PRESENCE_SAMPLES)]
        query = key.flatten(2)[:, :, where].unsqueeze(2)  # (1, C, 1, n)
        weights = weights[where]
        scores = [float((match_references(query, keys, masks, self.model.log_temperature)[0, 0, 0, 0] * weights).sum())
                  for keys, masks in refs]
        return max(scores) / float(weights.sum())

    def _appearance_refs(self, slot: int) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
        """Object ``slot``'s (0-based) appearance references, each keys (1, C, M) and masks (1, 1, M):
        its first frame and the latest healthy frames kept for re-finding, those where it covers
        at least ``refind.min_reference_cells`` key cells; None when there is none."""
        first = self._entries.get(self._starts[slot])
        if first is None:
            return None
        refs = [(first.key, first.masks)] + [(k, m) for step, k, m in self._appearance if step > self._starts[slot]]
        refs = [(k[None], _slot_row(m, slot)[None]) for k, m in refs]
        # A readout against a reference where the object covers a handful of key cells swings
        # with every change of pose or blur; such references are not used (presence: None).
        least = self.config.refind.min_reference_cells if self.config.refind is not None else 0
        return [(k, m) for k, m in refs if float(m.sum()) >= least] or None

    def _probs_to_remember(self, probs: np.ndarray, prompted: bool) -> np.ndarray:
        """``probs`` with each object the re-finder holds lost as the network itself saw it.

        A lost object's mask is cleared in what the user gets, but the network goes on from its
        own prediction: if the loss was a false alarm, or the object comes back where the
        network still looks, the network finds it again by itself (a cleared mask would leave it
        nothing to start from)."""
        own, self._own = self._own, None
        if self.refinder is None or prompted or own is None or own.shape != probs.shape:
            return probs
        lost = [slot for slot in range(1, probs.shape[0]) if self.refinder.lost(slot)]
        if not lost:
            return probs
        kept = probs.copy()
        kept[lost] = own[lost]
        kept[0] = np.clip(1.0 - kept[1:].sum(axis=0), 0.0, 1.0)
        return kept

    def _remember_appearance(self, frame: np.ndarray, probs: np.ndarray, key: torch.Tensor, entry: MemoryEntry,
                             prompted: bool) -> None:
        """Trackers start on prompted frames. Every ``refind.every`` steps a frame is set aside; it
        joins the latest ``refind.references`` frames that presence is read against ``every`` steps
        later if no object was lost meanwhile, so the frames just before a loss (an object half
        hidden, its mask already on what hides it) never do."""
        config = self.config.refind
        if prompted:
            self.refinder.start(frame, probs)
            return
        if any(self.refinder.lost(slot) for slot in range(1, probs.shape[0])):
            self._appearance_next = None
        elif self._step % config.every == 0:
            if self._appearance_next is not None:
                self._appearance = [*self._appearance, self._appearance_next][-config.references:]
            self._appearance_next = (self._step, entry.key, entry.masks)

    def _long_steps(self) -> list[int]:
        chosen = set(self.policy.select(self._step, 0)) | set(self._pinned)
        chosen.discard(self._step - 1)  # the previous frame is the short-term reference
        chosen.discard(self._step)
        return sorted(s for s in chosen if s in self._entries)

    @staticmethod
    def _slot_mask(entry: MemoryEntry, slot: int) -> torch.Tensor:
        """(1, M): the entry's mask of ``slot``, empty if the object did not exist yet then."""
        return _slot_row(entry.masks, slot)

    def _forget(self) -> None:
        keep = set(self.policy.needed_after(self._step)) | set(self._pinned) | {self._step}
        for step in [s for s in self._entries if s not in keep]:
            del self._entries[step]

    def _adapt(self, frame: np.ndarray, prompted: bool) -> None:
        if not self.config.adapt.enabled:
            return
        entry = self._entries[self._step]
        if prompted:
            examples = self._first_frame_examples(frame, entry)
            self.adapter.fit(examples, self.config.adapt.first_steps)
            return
        if not self.adapter.due(self._step):
            return
        steps = [self._step] + [s for s in self.policy.select(self._step, 0) if s not in self._pinned]
        examples = [example_from_mask(e.inputs, e.result, self.config.adapt.confident)
                    for e in (self._entries.get(s) for s in set(steps)) if e is not None and e.inputs is not None]
        self.adapter.fit(examples, self.config.adapt.steps)

    def _first_frame_examples(self, frame: np.ndarray, entry: MemoryEntry, count: int = 2) -> list[AdaptExample]:
        """Examples from the prompted frame: if it was predicted, the prediction's inputs with the
        user's mask; plus augmented copies of the frame matched against it (OSVOS's lucid data)."""
        examples = []
        if entry.inputs is not None:
            examples.append(example_from_mask(entry.inputs, entry.result, None))
        image = self._to_tensor(frame)
        masks = entry.result  # (K, 1, h/2, w/2)
        full_masks = F.interpolate(masks, size=image.shape[-2:], mode="bilinear", align_corners=False)
        generator = torch.Generator().manual_seed(self._step)
        for _ in range(count):
            theta = _random_affine(generator, 0.08, 0.1, 10.0)
            aug_image = _affine(image, theta)
            aug_masks = _affine(full_masks, theta)
            prior = _affine(aug_masks, _random_affine(generator, 0.03, 0.05, 4.0))
            feats = self.model.encode(aug_image)
            key = entry.key[None]  # the original frame is both the long- and the short-term reference
            matches = torch.cat([
                match_groups(feats.key, key, entry.masks[o : o + 1][None], key, entry.masks[o : o + 1][None],
                             self.model.log_temperature)[0]
                for o in range(entry.masks.shape[0])
            ])
            inputs = self.model.decoder.trunk(feats.repeat(entry.masks.shape[0]), matches, prior)
            target = F.adaptive_avg_pool2d(aug_masks, inputs.d2.shape[-2:])
            examples.append(example_from_mask(inputs, target, None))
        return examples

    def _upsample(self, probs: np.ndarray, frame: np.ndarray) -> np.ndarray:
        """(K+1, h, w) -> (K+1, H, W) at the frame's size."""
        if self.config.upsample == "guided":
            return guided_upsample(probs, frame, self.config.guided_radius, self.config.guided_eps)
        height, width = frame.shape[:2]
        return np.stack([cv2.resize(p, (width, height), interpolation=cv2.INTER_LINEAR) for p in probs])

    def _internal_size(self, height: int, width: int) -> tuple[int, int]:
        scale = min(1.0, self.config.internal_height / height)
        return (max(STRIDE, round(height * scale / STRIDE) * STRIDE), max(STRIDE, round(width * scale / STRIDE) * STRIDE))

    def _to_tensor(self, frame: np.ndarray) -> torch.Tensor:
        """(H, W, 3) uint8 -> (1, 3, h, w) float in [0, 1] at the internal size."""
        h, w = self._internal_size(*frame.shape[:2])
        small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
        return torch.from_numpy(small).permute(2, 0, 1)[None].float().div_(255.0)

    @staticmethod
    def _resize_probs(probs: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
        """(K, H, W) float -> (K, h, w) tensor, area-averaged."""
        h, w = size
        out = np.stack([cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA) for p in probs]) if len(probs) else np.zeros((0, h, w), np.float32)
        return torch.from_numpy(out.astype(np.float32))


def _slot_row(masks: torch.Tensor, slot: int) -> torch.Tensor:
    """(1, M): row ``slot`` of masks (K, M), empty if the object did not exist yet then (K <= slot)."""
    if slot < masks.shape[0]:
        return masks[slot : slot + 1]
    return torch.zeros(1, masks.shape[1])


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
