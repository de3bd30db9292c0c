"""Online adaptation (seed 000): fine-tune the refine head on this video while segmenting it.

Examples are the refine module's cached inputs with a target mask: the prompted frame with the
user's mask, the previous frame with its predicted mask and, once more than T frames have been
segmented, the preset frame at step round(t * r) with its mask (which frames: the memory policy).
A predicted mask is its own teacher only where it is confident, so pixels near 0.5 are ignored.
The head is a per-session copy; the shared model is never changed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from vidseg.errors import InputError
from vidseg.nn.propagation import Refine, RefineInputs


@dataclass(frozen=True)
class AdaptConfig:
    """first_steps: steps on the prompted frame when an object starts. steps: steps per update.
    every: update every this many frames (0: only at the start). lr: Adam learning rate.
    confident: predicted pixels count as targets only when |p - 0.5| >= this."""

    enabled: bool = True
    first_steps: int = 10
    steps: int = 2
    every: int = 5
    lr: float = 1e-3
    confident: float = 0.3

    def __post_init__(self) -> None:
        if min(self.first_steps, self.steps, self.every) < 0 or self.lr <= 0 or not 0 <= self.confident < 0.5:
            raise InputError("adaptation steps and schedule must be >= 0, lr > 0, confident in [0, 0.5)")


@dataclass
class AdaptExample:
    """inputs: refine inputs of one frame (N objects); target: (N, 1, h, w) in [0, 1] at stride 2;
    weight: (N, 1, h, w) per-pixel loss weight (0 where the target is not trusted)."""

    inputs: RefineInputs
    target: torch.Tensor
    weight: torch.Tensor


def example_from_mask(inputs: RefineInputs, probs: torch.Tensor, confident: float | None) -> AdaptExample:
    """probs: (N, 1, h, w) object probabilities at stride 2. confident=None trusts every pixel
    (a user's mask); otherwise only pixels with |p - 0.5| >= confident, as hard targets."""
    if confident is None:
        return AdaptExample(inputs.detach(), probs, torch.ones_like(probs))
    weight = ((probs - 0.5).abs() >= confident).float()
    return AdaptExample(inputs.detach(), (probs > 0.5).float(), weight)


class HeadAdapter:
    """A per-session refine head and its optimiser."""

    def __init__(self, head: Refine, config: AdaptConfig) -> None:
        self.config = config
        # Without adaptation the shared head is used as it is (never trained: no copy needed, and a
        # runtime other than torch keeps running it); with adaptation, a torch copy per video.
        self.head = copy.deepcopy(head).train() if config.enabled else head
        self._optimizer = torch.optim.Adam(self.head.parameters(), lr=config.lr) if config.enabled else None

    def due(self, step: int) -> bool:
        """Whether frame ``step`` of the pass is an adaptation step."""
        return self.config.enabled and self.config.every > 0 and step > 0 and step % self.config.every == 0

    def fit(self, examples: list[AdaptExample], steps: int) -> float:
        """Run ``steps`` optimiser steps over ``examples``; returns the last loss (0 if none ran)."""
        loss_value = 0.0
        if not (self.config.enabled and examples and steps):
            return loss_value
        with torch.enable_grad():
            for _ in range(steps):
                loss = sum(self._loss(e) for e in examples) / len(examples)
                self._optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self._optimizer.step()
                loss_value = float(loss.detach())
        return loss_value

    def _loss(self, example: AdaptExample) -> torch.Tensor:
        """Weighted BCE + Dice, as in training: BCE alone on a small object teaches the head that
        everything is background, and self-training on its own masks then shrinks them frame by frame."""
        logits = self.head(example.inputs)
        w, t = example.weight, example.target
        bce = (F.binary_cross_entropy_with_logits(logits, t, reduction="none") * w).sum() / w.sum().clamp(min=1.0)
        p = torch.sigmoid(logits) * w
        dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + (t * w).sum() + 1)
        return bce + dice
