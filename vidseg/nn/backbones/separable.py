"""The CPU-shaped backbone every vidseg network starts with: RGB in, features at strides 2, 4, 8.

Depth-wise separable blocks with few channels at high resolution; a stride-16 stage widens the
receptive field cheaply and is folded back into stride 8, so the deepest map stays fine enough
for masks.
"""

from __future__ import annotations

import torch
from torch import nn

from vidseg.nn.blocks import SeparableBlock, conv_bn_relu, upsample_to

INPUT_MULTIPLE = 16  # input sides must be multiples of this (the deepest stride)
_RGB_MEAN = (0.485, 0.456, 0.406)
_RGB_STD = (0.229, 0.224, 0.225)


class Backbone(nn.Module):
    """(B, 3, H, W) RGB in [0, 1] -> f2, f4, f8 of (B, widths[i], H/s, W/s), s = 2, 4, 8.

    widths: channels at strides 2, 4, 8 and 16.
    """

    def __init__(self, widths: tuple[int, int, int, int]) -> None:
        super().__init__()
        w2, w4, w8, w16 = widths
        self.register_buffer("mean", torch.tensor(_RGB_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_RGB_STD).view(1, 3, 1, 1), persistent=False)
        self.stage2 = nn.Sequential(conv_bn_relu(3, w2, stride=2), SeparableBlock(w2, w2))
        self.stage4 = nn.Sequential(SeparableBlock(w2, w4, stride=2), SeparableBlock(w4, w4))
        self.stage8 = nn.Sequential(SeparableBlock(w4, w8, stride=2), SeparableBlock(w8, w8),
                                    SeparableBlock(w8, w8, dilation=2))
        self.stage16 = nn.Sequential(SeparableBlock(w8, w16, stride=2), SeparableBlock(w16, w16, dilation=2))
        self.context = nn.Conv2d(w16, w8, 1)

    def features(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        check_image(image)
        f2 = self.stage2((image - self.mean) / self.std)
        f4 = self.stage4(f2)
        f8 = self.stage8(f4)
        return f2, f4, f8 + upsample_to(self.context(self.stage16(f8)), f8)


def check_image(image: torch.Tensor) -> None:
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"images must be (B, 3, H, W), got {tuple(image.shape)}")
    if image.shape[-2] % INPUT_MULTIPLE or image.shape[-1] % INPUT_MULTIPLE:
        raise ValueError(f"image sides must be multiples of {INPUT_MULTIPLE}, got {tuple(image.shape[-2:])}")
