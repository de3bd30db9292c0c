"""Segmentation losses as plain functions of logits and targets."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def fit_target(target: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Area-resize a (N, 1, H, W) target in [0, 1] to the logits' size (a soft target at edges)."""
    if target.shape[-2:] == logits.shape[-2:]:
        return target
    return F.adaptive_avg_pool2d(target, logits.shape[-2:])


def bootstrapped_bce(logits: torch.Tensor, target: torch.Tensor, keep: float = 0.25) -> torch.Tensor:
    """Mean BCE over the hardest ``keep`` share of pixels of each item (STCN's bootstrapping):
    most pixels are easy background, and averaging over them would drown the boundary."""
    losses = F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1)
    k = max(1, int(losses.shape[1] * keep))
    return losses.topk(k, dim=1).values.mean()


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """1 - soft Dice per item, averaged; insensitive to how large the object is."""
    prob = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1)
    inter = (prob * target).sum(1)
    return (1 - (2 * inter + eps) / (prob.sum(1) + target.sum(1) + eps)).mean()


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, keep: float = 0.25) -> torch.Tensor:
    """Bootstrapped BCE + Dice. logits: (N, 1, h, w); target: (N, 1, H, W) in [0, 1]."""
    target = fit_target(target, logits)
    return bootstrapped_bce(logits, target, keep) + dice_loss(logits, target)


def batch_iou(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Mean IoU over items of the thresholded prediction (1 when both are empty)."""
    target = fit_target(target, logits) > 0.5
    pred = logits > 0
    inter = (pred & target).flatten(1).sum(1).float()
    union = (pred | target).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union)).mean().item()
