"""What one training step returns: shared by the loop and the data-parallel wrapper."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class StepResult:
    """One optimiser step's loss (to minimise) and its batch IoU (to log)."""

    loss: torch.Tensor
    iou: float
