"""Test-time mirroring for the interactive network: each pass also runs on the crop mirrored left to
right (with its correction maps mirrored), and the two answers' logits are averaged.

Averaging the two views steadies the outline a click leaves, which is what decides whether a frame
near 90% IoU crosses it. On the TUNE clips of our training split (every 5th frame, 81, all 20
clicks) with two FIT networks that never saw them: NoC@90 7.23 -> 6.86 and 7.19 -> 6.77, NoC@85
5.91 -> 5.85 and 5.94 -> 5.91, the mean IoU over clicks 1-20 88.15 -> 88.21 and 88.23 -> 88.27;
mirroring the focus passes and tiles alone gave 7.02, the selection's passes alone 7.02 with a
lower mean (docs/benchmarks.md). It doubles the network's work per pass. A click's box proposal
reads the region map of the crop alone (the click segmenter runs one view for it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vidseg.nn.interactive import InteractiveNet, LowerFeatures


@dataclass
class MirroredFeatures:
    """The first part's features of a crop (``plain``) and of its mirror image (``mirrored``)."""

    plain: LowerFeatures
    mirrored: LowerFeatures


class MirroredNet:
    """``net`` (the torch network or its ONNX Runtime stand-in) run on both views of every crop;
    ``lower`` / ``upper`` as the network's own."""

    def __init__(self, net: InteractiveNet) -> None:
        self.net = net
        self.config = net.config

    def lower(self, crops: torch.Tensor) -> MirroredFeatures:
        """crops: (B, 3, S, S) RGB in [0, 1] -> both views' features."""
        return MirroredFeatures(self.net.lower(crops), self.net.lower(crops.flip(-1)))

    def upper(self, lower: MirroredFeatures, maps: torch.Tensor) -> torch.Tensor:
        """maps: (B, 5, S, S) -> logits (B, 1, S/2, S/2), the mean of both views' (the mirrored one
        flipped back)."""
        plain = self.net.upper(lower.plain, maps)
        mirrored = self.net.upper(lower.mirrored, maps.flip(-1)).flip(-1)
        return (plain + mirrored) / 2
