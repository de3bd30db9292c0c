"""Every training loss, as plain functions of predictions and targets: segmentation (VOS and
interactive masks), the interactive region branch, and the tracker's score, box and Polar IoU losses."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from vidseg.nn.guided_filter import grey, guided_upsample
from vidseg.nn.interactive import region_targets
from vidseg.nn.polar import TrackerOutput


def fit_target(target: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Area-resize a (N, 1, H, W) target in [0, 1] to the logits' size (a soft target at edges)."""
    if target.shape[-2:] == logits.shape[-2:]:
        return target
    return F.adaptive_avg_pool2d(target, logits.shape[-2:])


def bootstrapped_bce(logits: torch.Tensor, target: torch.Tensor, keep: float = 0.25,
                     weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean BCE over the hardest ``keep`` share of pixels of each item (STCN's bootstrapping):
    most pixels are easy background, and averaging over them would drown the boundary. ``weight``
    (like ``logits``, or None) scales each pixel's BCE before the hardest are chosen."""
    return _hardest_mean(F.binary_cross_entropy_with_logits(logits, target, weight=weight, reduction="none"), keep)


def _hardest_mean(losses: torch.Tensor, keep: float) -> torch.Tensor:
    """Mean of the largest ``keep`` share of each item's per-pixel ``losses`` (N, ...)."""
    losses = losses.flatten(1)
    k = max(1, int(losses.shape[1] * keep))
    return losses.topk(k, dim=1).values.mean()


def normalized_focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0,
                          weight: torch.Tensor | None = None, eps: float = 1e-6) -> torch.Tensor:
    """RITM's normalised focal loss: each pixel's BCE scaled by ``|target - p| ** gamma`` (the focal
    term, written for soft targets), the scales of each item renormalised to sum to its pixel count.

    Bootstrapping keeps a fixed share of pixels; the focal term instead fades pixels as they become
    right, and the renormalisation keeps the loss's size as most pixels do (so the gradient does not
    vanish late in training, as the plain focal loss's does). The scales carry no gradient.
    logits, target: (N, 1, h, w); weight: like them, or None (multiplies the BCE after scaling)."""
    bce = F.binary_cross_entropy_with_logits(logits, target, weight=weight, reduction="none").flatten(1)
    with torch.no_grad():
        focus = (target - torch.sigmoid(logits)).abs().pow(gamma).flatten(1)
        focus = focus * (focus.shape[1] / (focus.sum(1, keepdim=True) + eps))
    return (focus * bce).mean()


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """1 - soft Dice per item, averaged; insensitive to how large the object is."""
    prob = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1)
    inter = (prob * target).sum(1)
    return (1 - (2 * inter + eps) / (prob.sum(1) + target.sum(1) + eps)).mean()


PIXEL_LOSSES = ("bce", "nfl")  # bootstrapped BCE, normalised focal loss: segmentation_loss's choices


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, keep: float = 0.25,
                      weight: torch.Tensor | None = None, pixel: str = "bce") -> torch.Tensor:
    """A per-pixel loss + Dice. logits: (N, 1, h, w); target: (N, 1, H, W) in [0, 1]; weight:
    (N, 1, h, w) per-pixel weights of the pixel loss, or None; ``pixel``: "bce", the bootstrapped
    BCE over the hardest ``keep`` share, or "nfl", the normalised focal loss over every pixel."""
    target = fit_target(target, logits)
    if pixel == "nfl":
        return normalized_focal_loss(logits, target, weight=weight) + dice_loss(logits, target)
    if pixel != "bce":
        raise ValueError(f"pixel loss is {pixel!r}; expected one of {PIXEL_LOSSES}")
    return bootstrapped_bce(logits, target, keep, weight) + dice_loss(logits, target)


def guided_outline_loss(logits: torch.Tensor, images: torch.Tensor, target: torch.Tensor, low_radius: int,
                        eps: float, keep: float = 0.25) -> torch.Tensor:
    """Mean absolute error over the hardest ``keep`` share of pixels of the mask as inference shows
    it: ``logits`` (N, 1, h, w) as probabilities, guided-filter upsampled (``low_radius``, ``eps``;
    :mod:`vidseg.nn.guided_filter`) to ``images`` (N, 3, H, W) RGB in [0, 1], against ``target``
    (N, 1, H, W) in [0, 1]. Absolute, not BCE: the filter's output leaves [0, 1] near edges, and a
    clipped pixel would have no gradient however wrong it is."""
    upsampled = guided_upsample(torch.sigmoid(logits), grey(images), low_radius, eps)
    return _hardest_mean((upsampled - target).abs(), keep)


def batch_iou(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Mean IoU over items of the thresholded prediction (1 when both are empty)."""
    target = fit_target(target, logits) > 0.5
    pred = logits > 0
    inter = (pred & target).flatten(1).sum(1).float()
    union = (pred | target).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union)).mean().item()


def region_loss(region: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """BCE on objectness plus L1 on the box distances of cells mostly on the object."""
    objectness, dist = region_targets(masks, region.shape[-1])
    loss = F.binary_cross_entropy_with_logits(region[:, :1], objectness)
    on_object = (objectness > 0.5).float()
    l1 = (region[:, 1:] - dist).abs() * on_object
    return loss + l1.sum() / (4 * on_object.sum()).clamp(min=1)



def polar_iou_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Polar IoU loss, ``log(sum_i max(d_i, d*_i) / sum_i min(d_i, d*_i))``, averaged over rows.

    pred, target: (N, n) ray lengths (>= 0). 0 when they agree; grows as the outlines part."""
    if pred.shape != target.shape or pred.ndim != 2:
        raise ValueError(f"pred and target must be (N, n) alike, got {tuple(pred.shape)} and {tuple(target.shape)}")
    if pred.shape[0] == 0:
        return pred.sum() * 0
    ratio = torch.maximum(pred, target).sum(1) / (torch.minimum(pred, target).sum(1) + eps)
    return torch.log(ratio.clamp_min(1.0)).mean()


def box_iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """IoU of boxes given as (N, 4) distances (left, top, right, bottom) from one shared point -> (N,)."""
    inter_w = torch.minimum(pred[:, 0], target[:, 0]) + torch.minimum(pred[:, 2], target[:, 2])
    inter_h = torch.minimum(pred[:, 1], target[:, 1]) + torch.minimum(pred[:, 3], target[:, 3])
    inter = inter_w.clamp_min(0) * inter_h.clamp_min(0)
    area_p = (pred[:, 0] + pred[:, 2]) * (pred[:, 1] + pred[:, 3])
    area_t = (target[:, 0] + target[:, 2]) * (target[:, 1] + target[:, 3])
    return inter / (area_p + area_t - inter).clamp_min(1e-6)


def balanced_bce(logits: torch.Tensor, positive: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """BCE with the positive and negative locations weighted equally; (B, 1, M, M) each, bool masks."""
    loss = F.binary_cross_entropy_with_logits(logits, positive.float(), reduction="none")
    pos, neg = positive & valid, ~positive & valid
    terms = [loss[m].mean() for m in (pos, neg) if m.any()]
    return sum(terms) / len(terms) if terms else logits.sum() * 0


@dataclass
class TrackerLoss:
    total: torch.Tensor
    score: torch.Tensor
    box: torch.Tensor
    polar: torch.Tensor
    box_iou: float  # mean IoU of the boxes predicted at the positive locations (to log)


def tracker_loss(out: TrackerOutput, positive: torch.Tensor, valid: torch.Tensor, box_target: torch.Tensor,
                 ray_target: torch.Tensor, polar_weight: float = 1.0) -> TrackerLoss:
    """The joint loss. positive, valid: (B, 1, M, M) bool; box_target (B, 4, M, M) and
    ray_target (B, n, M, M): distances per location, read at the positive locations only."""
    score = balanced_bce(out.score, positive, valid)
    pick = positive[:, 0]
    pred_box, true_box = out.box.permute(0, 2, 3, 1)[pick], box_target.permute(0, 2, 3, 1)[pick]
    ious = box_iou(pred_box, true_box)
    box = -torch.log(ious.clamp_min(1e-4)).mean() if len(ious) else out.box.sum() * 0
    polar = polar_iou_loss(out.rays.permute(0, 2, 3, 1)[pick], ray_target.permute(0, 2, 3, 1)[pick])
    total = score + box + polar_weight * polar
    return TrackerLoss(total, score, box, polar, float(ious.detach().mean()) if len(ious) else 0.0)
