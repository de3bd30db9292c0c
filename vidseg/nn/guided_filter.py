"""The fast guided filter of :mod:`vidseg.ops.guided_filter`, differentiable, for training.

The click segmenter upsamples every pass of the interactive network with the guided filter, which
the network never saw in training: its logits were fitted to a bilinear upsampling. Run through
this filter in training (Wu et al., "Fast End-to-End Trainable Guided Filter", CVPR 2018), the
network can learn the soft outline that the filter then snaps to the image's edges. The two
implementations agree (tests/nn/test_guided_filter.py); the numpy one runs at inference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# ITU-R BT.601 luma, as cv2.cvtColor(RGB2GRAY) weighs the guide at inference.
_LUMA = (0.299, 0.587, 0.114)


def grey(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB in [0, 1] -> (N, 1, H, W) grey in [0, 1]."""
    weights = images.new_tensor(_LUMA).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


def guided_upsample(low: torch.Tensor, guide: torch.Tensor, low_radius: int, eps: float) -> torch.Tensor:
    """Soft masks upsampled to the guide's size, their edges snapped to the guide's edges.

    low: (N, 1, h, w) probabilities in [0, 1]; guide: (N, 1, H, W) grey in [0, 1], H and W
    multiples of h and w; low_radius: the fit's window radius at the low resolution (>= 1);
    eps: regularisation in squared guide units. Returns (N, 1, H, W), not clipped, so a pixel
    pushed past 0 or 1 still has a gradient (clip before thresholding, as inference does).
    """
    h, w = low.shape[-2:]
    small = F.adaptive_avg_pool2d(guide, (h, w))  # = cv2's INTER_AREA at whole factors
    mean_i = _box(small, low_radius)
    var_i = _box(small * small, low_radius) - mean_i * mean_i
    mean_p = _box(low, low_radius)
    a = (_box(small * low, low_radius) - mean_i * mean_p) / (var_i + eps)
    b = mean_p - a * mean_i
    size = guide.shape[-2:]
    up_a = F.interpolate(_box(a, low_radius), size=size, mode="bilinear", align_corners=False)
    up_b = F.interpolate(_box(b, low_radius), size=size, mode="bilinear", align_corners=False)
    return up_a * guide + up_b


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over (2 radius + 1)^2 windows of (N, C, h, w), borders mirrored with the edge pixel
    repeated (cv2.BORDER_REFLECT, which the numpy filter uses; torch's "reflect" skips it)."""
    r = radius
    x = torch.cat([x[..., :r].flip(-1), x, x[..., -r:].flip(-1)], dim=-1)
    x = torch.cat([x[..., :r, :].flip(-2), x, x[..., -r:, :].flip(-2)], dim=-2)
    return F.avg_pool2d(x, 2 * r + 1, stride=1)
