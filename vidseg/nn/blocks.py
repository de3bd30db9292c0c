"""CPU-shaped convolution blocks: depth-wise separable convolutions, few channels at high resolution."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def conv_bn_relu(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    """A plain convolution; used only where the input has few channels (the RGB stem)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class SeparableBlock(nn.Module):
    """Depth-wise 3x3 then point-wise 1x1, each with BatchNorm; residual when shapes allow.

    (B, cin, H, W) -> (B, cout, H / stride, W / stride).
    """

    def __init__(self, cin: int, cout: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, stride, dilation, dilation=dilation, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.depthwise(x)), inplace=True)
        y = self.bn2(self.pointwise(y))
        return F.relu(y + x if self.residual else y, inplace=True)


class ExpandedResidual(nn.Module):
    """MobileNetV2's inverted residual: 1x1 to ``width * expand`` channels, depth-wise 3x3, 1x1 back,
    added to the input; (B, width, H, W) -> the same.

    The last BatchNorm's scale starts at zero (Goyal et al., 2017), so a new block is the identity:
    added to a trained network, it leaves its answers as they were until training moves it."""

    def __init__(self, width: int, expand: int) -> None:
        super().__init__()
        hidden = width * expand
        self.body = nn.Sequential(
            nn.Conv2d(width, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True), nn.Conv2d(hidden, width, 1, bias=False), nn.BatchNorm2d(width))
        nn.init.zeros_(self.body[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def upsample_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Bilinear resize of ``x`` (B, C, h, w) to the spatial size of ``like``."""
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)
