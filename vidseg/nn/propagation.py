"""Reference-frame propagation network (seed 002), small enough for a 2-core CPU.

An encoder gives multi-level features and a key for every frame. A similarity module compares the
current frame's key with the keys of reference frames; a multiplication module weights the reference
masks by that similarity into a reference segmentation. A decoder with multi-level upsampling
produces a pre-segmentation, and its last level, the refine module, fuses it with the reference
segmentation and the flow-warped previous mask (MaskTrack's cue) into the final mask.

Two groups of references are matched separately, because they answer different questions: the
long-term group (the prompted frame, the preset frame, every k-th frame) says what the object looks
like; the short-term group (the previous frame) says where it just was.

Shapes: images (B, 3, H, W) in [0, 1] with H, W multiples of 16; features at strides 2, 4, 8; keys
(B, C, h, w) at stride 8, unit length along C; masks (B, O, H, W) in [0, 1], one channel per object.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from vidseg.nn.backbones import separable
from vidseg.nn.backbones.efficientnet_lite import LiteFeatures
from vidseg.nn.backbones.names import check_encoder
from vidseg.nn.backbones.separable import Backbone
from vidseg.nn.blocks import SeparableBlock, conv_bn_relu, upsample_to
from vidseg.nn.stored_config import StoredConfig

INPUT_MULTIPLE = separable.INPUT_MULTIPLE  # image sides: both encoders end at stride 16
KEY_STRIDE = 8
MATCH_CHANNELS = 3  # per reference group: soft segmentation, best match to object, best match to rest


@dataclass(frozen=True)
class PropagationNetConfig(StoredConfig):
    """encoder: "separable" (learnt from scratch) or an EfficientNet-Lite variant ("lite0", "lite1",
    "lite2", ImageNet-initialised for training). widths: the separable encoder's channels at strides 2,
    4, 8, 16; with a Lite encoder only widths[2] is used, the stride-8 width after stride 16 is fused
    into it (strides 2 and 4 keep the Lite encoder's own widths). key_dim: channels of the matching key.
    """

    widths: tuple[int, int, int, int] = (16, 32, 64, 96)
    key_dim: int = 32
    decoder_width: int = 32
    refine_width: int = 16
    encoder: str = "separable"

    def __post_init__(self) -> None:
        check_encoder(self.encoder)


@dataclass
class FrameFeatures:
    """f2, f4, f8: (B, widths[i], H/s, W/s) features; key: (B, key_dim, H/8, W/8), unit length."""

    f2: torch.Tensor
    f4: torch.Tensor
    f8: torch.Tensor
    key: torch.Tensor

    def repeat(self, times: int) -> FrameFeatures:
        """Repeat each batch item ``times`` times (one copy per object)."""
        if times == 1:
            return self
        return FrameFeatures(*(t.repeat_interleave(times, dim=0) for t in (self.f2, self.f4, self.f8, self.key)))


@dataclass
class RefineInputs:
    """What the refine module sees, all at stride 2: d2 (N, D, h, w) decoder features, pre_logits
    (N, 1, h, w), ref_segs (N, 2, h, w) long- and short-term reference segmentations, prior (N, 1, h, w).
    Online adaptation caches these per frame and trains the refine module on them."""

    d2: torch.Tensor
    pre_logits: torch.Tensor
    ref_segs: torch.Tensor
    prior: torch.Tensor

    def detach(self) -> RefineInputs:
        return RefineInputs(self.d2.detach(), self.pre_logits.detach(), self.ref_segs.detach(), self.prior.detach())


@dataclass
class Prediction:
    """logits: (B, 1, H/2, W/2) final; pre_logits: the decoder's own pre-segmentation, same shape."""

    logits: torch.Tensor
    pre_logits: torch.Tensor


class Encoder(Backbone):
    """The separable backbone plus the matching key: (B, 3, H, W) -> FrameFeatures."""

    def __init__(self, config: PropagationNetConfig) -> None:
        super().__init__(config.widths)
        self.widths = config.widths[:3]
        self.key = nn.Conv2d(config.widths[2], config.key_dim, 1)

    def forward(self, image: torch.Tensor) -> FrameFeatures:
        """image: (B, 3, H, W) RGB in [0, 1], H and W multiples of 16."""
        f2, f4, f8 = self.features(image)
        return FrameFeatures(f2, f4, f8, F.normalize(self.key(f8), dim=1))


class LiteEncoder(LiteFeatures):
    """The EfficientNet-Lite trunk (f8 of ``widths[2]`` channels) plus the matching key:
    (B, 3, H, W) RGB in [0, 1], H and W multiples of 16 -> FrameFeatures."""

    def __init__(self, config: PropagationNetConfig) -> None:
        super().__init__(config.encoder, config.widths[2])
        self.key = nn.Conv2d(config.widths[2], config.key_dim, 1)

    def forward(self, image: torch.Tensor) -> FrameFeatures:
        f2, f4, f8 = self.features(image)
        return FrameFeatures(f2, f4, f8, F.normalize(self.key(f8), dim=1))


def match_references(query_key: torch.Tensor, ref_keys: torch.Tensor, ref_masks: torch.Tensor,
                     log_temperature: torch.Tensor) -> torch.Tensor:
    """Similarity + multiplication modules: the reference segmentation and best-match maps.

    query_key: (B, C, h, w). ref_keys: (B, C, M) keys of every reference position. ref_masks:
    (B, O, M) soft masks at those positions. Returns (B, O, 3, h, w): the reference masks weighted
    by the soft-maxed similarity (the reference segmentation), and the best cosine similarity to a
    position of the object and to one of the rest (high where the object's appearance recurs),
    where a position counts for the object with a penalty of 2 (1 - mask), for the rest of 2 mask.
    """
    if query_key.shape[0] == 1 and not torch.is_grad_enabled():  # inference: one frame, its objects
        match = _match_one_object if ref_masks.shape[1] == 1 else _match_objects
        return match(query_key, ref_keys, ref_masks, log_temperature)
    return match_dense(query_key, ref_keys, ref_masks, log_temperature)


def match_dense(query_key: torch.Tensor, ref_keys: torch.Tensor, ref_masks: torch.Tensor,
                log_temperature: torch.Tensor) -> torch.Tensor:
    """:func:`match_references` as one dense computation, with no branch on the masks' values:
    the training path, and the one an exported graph holds."""
    b, c, h, w = query_key.shape
    sim = torch.einsum("bcn,bcm->bnm", query_key.flatten(2), ref_keys)  # cosine, (B, N, M)
    weights = torch.softmax(sim * log_temperature.exp(), dim=-1)
    soft = torch.einsum("bnm,bom->bon", weights, ref_masks)
    best_fg, best_bg = [], []
    for o in range(ref_masks.shape[1]):  # a loop bounds memory at (B, N, M), not (B, O, N, M)
        mask = ref_masks[:, o, None, :]
        best_fg.append((sim - 2.0 * (1.0 - mask)).amax(dim=-1))
        best_bg.append((sim - 2.0 * mask).amax(dim=-1))
    out = torch.stack([soft, torch.stack(best_fg, 1), torch.stack(best_bg, 1)], dim=2)
    return out.view(b, ref_masks.shape[1], MATCH_CHANNELS, h, w)


def _match_one_object(query_key: torch.Tensor, ref_keys: torch.Tensor, ref_masks: torch.Tensor,
                      log_temperature: torch.Tensor) -> torch.Tensor:
    """``match_references`` for B = O = 1 at inference, without (N, M) temporaries.

    Reference positions are ordered object | partly object | rest before the product, so the best
    matches are maxima over contiguous slices; only partly covered positions need the penalty.
    The result equals the general path's (a test checks it)."""
    _, c, h, w = query_key.shape
    mask = ref_masks[0, 0]
    inside, outside = mask >= 1.0, mask <= 0.0
    partial = ~(inside | outside)
    order = torch.cat([inside.nonzero()[:, 0], partial.nonzero()[:, 0], outside.nonzero()[:, 0]])
    n_in, n_part = int(inside.sum()), int(partial.sum())
    sim = query_key.flatten(2)[0].t() @ ref_keys[0][:, order]  # (N, M), columns reordered
    part_mask = mask[order[n_in : n_in + n_part]]
    part = sim[:, n_in : n_in + n_part]  # few columns: the object's outline
    # Each candidate: (row-wise max of a slice, offset added after the reduction) or a small tensor.
    in_max = sim[:, :n_in].amax(dim=1) if n_in else None
    out_max = sim[:, n_in + n_part :].amax(dim=1) if n_in + n_part < sim.shape[1] else None
    part_fg = (part - 2.0 * (1.0 - part_mask)).amax(dim=1) if n_part else None
    part_bg = (part - 2.0 * part_mask).amax(dim=1) if n_part else None
    best_fg = _max_of([in_max, part_fg, None if out_max is None else out_max - 2.0])
    best_bg = _max_of([None if in_max is None else in_max - 2.0, part_bg, out_max])
    weights = torch.softmax(sim.mul_(log_temperature.exp()), dim=-1)  # sim is not needed after this
    soft = weights @ mask[order]
    return torch.stack([soft, best_fg, best_bg]).view(1, 1, MATCH_CHANNELS, h, w)


def _match_objects(query_key: torch.Tensor, ref_keys: torch.Tensor, ref_masks: torch.Tensor,
                   log_temperature: torch.Tensor) -> torch.Tensor:
    """``match_references`` for B = 1 at inference, O > 1 objects sharing one similarity and softmax.

    The best match to an object's rest is, for most query positions, the row's overall best match
    (its best reference position lies outside the object); only the rows whose best position is on
    the object are searched again. The best match to the object and to its outline come from
    products with those few key columns. So each extra object costs a fraction of the first, and no
    (O, N, M) temporary is made; for one object :func:`_match_one_object`, which needs no row
    search, is faster. The result equals the general path's (a test checks it)."""
    _, c, h, w = query_key.shape
    query = query_key.flatten(2)[0].t()  # (N, C)
    keys = ref_keys[0]  # (C, M)
    sim = query @ keys  # (N, M) cosine
    top, best = sim.max(dim=1)
    fg, bg = [], []
    for mask in ref_masks[0]:  # (M,)
        inside, outside = mask >= 1.0, mask <= 0.0
        partial = ~(inside | outside)
        in_max = (query @ keys[:, inside]).amax(dim=1) if inside.any() else None
        out_max = _best_outside(sim, top, best, outside)
        part_fg = part_bg = None
        if partial.any():
            part = query @ keys[:, partial]  # few columns: the object's outline
            part_fg = (part - 2.0 * (1.0 - mask[partial])).amax(dim=1)
            part_bg = (part - 2.0 * mask[partial]).amax(dim=1)
        fg.append(_max_of([in_max, part_fg, None if out_max is None else out_max - 2.0]))
        bg.append(_max_of([None if in_max is None else in_max - 2.0, part_bg, out_max]))
    weights = torch.softmax(sim.mul_(log_temperature.exp()), dim=-1)  # sim is not needed after this
    soft = (weights @ ref_masks[0].t()).t()  # (O, N)
    out = torch.stack([soft, torch.stack(fg), torch.stack(bg)], dim=1)
    return out.view(1, ref_masks.shape[1], MATCH_CHANNELS, h, w)


def _best_outside(sim: torch.Tensor, top: torch.Tensor, best: torch.Tensor, outside: torch.Tensor) -> torch.Tensor | None:
    """(N,) best similarity over the columns ``outside`` (M,) bool; None when there are none.
    ``top``, ``best``: each row's overall maximum and its column."""
    if not outside.any():
        return None
    if outside.all():
        return top
    result = top.clone()
    rows = (~outside)[best].nonzero()[:, 0]  # rows whose best column is not outside
    if len(rows):
        result[rows] = sim[rows][:, outside].amax(dim=1)
    return result


def _max_of(values: list[torch.Tensor | None]) -> torch.Tensor:
    """Element-wise max of the given (N,) tensors, skipping None."""
    present = [v for v in values if v is not None]
    best = present[0]
    for value in present[1:]:
        best = torch.maximum(best, value)
    return best


def match_groups(query_key: torch.Tensor, long_keys: torch.Tensor, long_masks: torch.Tensor,
                 short_keys: torch.Tensor, short_masks: torch.Tensor, log_temperature: torch.Tensor) -> torch.Tensor:
    """Long- and short-term matching side by side: (B, O, 6, h, w), each group as ``match_references``."""
    long = match_references(query_key, long_keys, long_masks, log_temperature)
    short = match_references(query_key, short_keys, short_masks, log_temperature)
    return torch.cat([long, short], dim=2)


def masks_to_key_grid(masks: torch.Tensor) -> torch.Tensor:
    """(B, O, H, W) masks -> (B, O, H/8 * W/8): the share of each key cell the object covers."""
    return F.avg_pool2d(masks, KEY_STRIDE).flatten(2)


class Refine(nn.Module):
    """The decoder's last level: fuses the pre-segmentation with the reference segmentations and
    the warped previous mask. It is the part online adaptation fine-tunes, so it is kept small."""

    def __init__(self, config: PropagationNetConfig) -> None:
        super().__init__()
        cin = config.decoder_width + 1 + 2 + 1  # features, pre-logits, 2 reference segs, prior
        self.body = nn.Sequential(
            nn.Conv2d(cin, config.refine_width, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(config.refine_width, config.refine_width, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(config.refine_width, 1, 3, padding=1),
        )
        nn.init.zeros_(self.body[-1].weight)  # starts as the identity on the pre-segmentation
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, x: RefineInputs) -> torch.Tensor:
        """-> (N, 1, h, w) logits at stride 2."""
        return x.pre_logits + self.body(torch.cat([x.d2, x.pre_logits, x.ref_segs, x.prior], dim=1))


class Decoder(nn.Module):
    def __init__(self, config: PropagationNetConfig, widths: tuple[int, int, int]) -> None:
        """widths: the encoder's channels at strides 2, 4, 8."""
        super().__init__()
        w2, w4, w8 = widths
        d = config.decoder_width
        self.in8 = nn.Sequential(conv_bn_relu(w8 + 2 * MATCH_CHANNELS + 1, d, kernel=1),
                                 SeparableBlock(d, d), SeparableBlock(d, d, dilation=2))
        self.skip4 = nn.Conv2d(w4, d, 1)
        self.up4 = SeparableBlock(d, d)
        self.skip2 = nn.Conv2d(w2, d, 1)
        self.up2 = SeparableBlock(d, d)
        self.pre_head = nn.Conv2d(d, 1, 1)
        self.refine = Refine(config)

    def trunk(self, feats: FrameFeatures, matches: torch.Tensor, prior: torch.Tensor) -> RefineInputs:
        """feats: one copy per object (N items); matches: (N, 6, h8, w8); prior: (N, 1, H, W)."""
        x = self.in8(torch.cat([feats.f8, matches, _resize(prior, feats.f8)], dim=1))
        x = self.up4(upsample_to(x, feats.f4) + self.skip4(feats.f4))
        d2 = self.up2(upsample_to(x, feats.f2) + self.skip2(feats.f2))
        ref_segs = upsample_to(matches[:, 0::MATCH_CHANNELS], d2)
        return RefineInputs(d2, self.pre_head(d2), ref_segs, _resize(prior, d2))

    def forward(self, feats: FrameFeatures, matches: torch.Tensor, prior: torch.Tensor) -> Prediction:
        inputs = self.trunk(feats, matches, prior)
        return Prediction(self.refine(inputs), inputs.pre_logits)


class PropagationNet(nn.Module):
    def __init__(self, config: PropagationNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or PropagationNetConfig()
        self.encoder = Encoder(self.config) if self.config.encoder == "separable" else LiteEncoder(self.config)
        self.decoder = Decoder(self.config, self.encoder.widths)
        self.log_temperature = nn.Parameter(torch.tensor(2.3))  # softmax sharpness, starts at e^2.3 = 10

    def encode(self, image: torch.Tensor) -> FrameFeatures:
        return self.encoder(image)

    def segment(self, query: FrameFeatures, long_keys: torch.Tensor, long_masks: torch.Tensor,
                short_keys: torch.Tensor, short_masks: torch.Tensor, prior: torch.Tensor) -> Prediction:
        """Segment O objects of one frame (B = 1) or of a batch of one object each (O = 1).

        query: features of the current frame (B items). long_keys / short_keys: (B, C, M) reference
        keys; long_masks / short_masks: (B, O, M) their masks on the key grid. prior: (B, O, H, W)
        flow-warped previous masks. Returns logits for B * O items, object-major within a batch item.
        """
        b, o = prior.shape[:2]
        matches = match_groups(query.key, long_keys, long_masks, short_keys, short_masks,
                               self.log_temperature).flatten(0, 1)  # (B*O, 6, h, w)
        return self.decoder(query.repeat(o), matches, prior.reshape(b * o, 1, *prior.shape[-2:]))

    def read(self, query_key: torch.Tensor, long_keys: torch.Tensor, long_masks: torch.Tensor,
             short_keys: torch.Tensor, short_masks: torch.Tensor) -> torch.Tensor:
        """The memory readout: (B, O, 6, h, w) long- and short-term matches (:func:`match_groups`)."""
        return match_groups(query_key, long_keys, long_masks, short_keys, short_masks, self.log_temperature)

    def forward(self, frames: torch.Tensor, ref_mask: torch.Tensor, prev_mask: torch.Tensor,
                prior: torch.Tensor) -> Prediction:
        """Training path, one object per clip.

        frames: (B, 3, 3, H, W) as [reference, previous, current]; ref_mask, prev_mask, prior:
        (B, 1, H, W). Returns the current frame's prediction.
        """
        b = frames.shape[0]
        feats = self.encode(frames.flatten(0, 1))
        keys = feats.key.view(b, 3, *feats.key.shape[1:])
        current = FrameFeatures(*(t.view(b, 3, *t.shape[1:])[:, 2] for t in (feats.f2, feats.f4, feats.f8, feats.key)))
        return self.segment(current, keys[:, 0].flatten(2), masks_to_key_grid(ref_mask),
                            keys[:, 1].flatten(2), masks_to_key_grid(prev_mask), prior)

    def load_pretrained_encoder(self) -> None:
        """Start the encoder from its ImageNet weights (training only; needs the ``train`` extra)."""
        if not isinstance(self.encoder, LiteEncoder):
            raise ValueError("only an EfficientNet-Lite encoder has pretrained weights")
        self.encoder.load_imagenet_weights()

    def head_parameters(self) -> list[nn.Parameter]:
        """What online adaptation fine-tunes: the refine module."""
        return list(self.decoder.refine.parameters())


def _resize(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Area-resize a (N, 1, H, W) mask to ``like``'s spatial size (it only ever shrinks here)."""
    (h, w), (th, tw) = mask.shape[-2:], like.shape[-2:]
    if h % th == 0 and w % tw == 0 and h // th == w // tw:
        # The same as adaptive pooling at a whole ratio, and a fixed kernel, which exported graphs need.
        return F.avg_pool2d(mask, int(h // th))
    return F.adaptive_avg_pool2d(mask, like.shape[-2:])
