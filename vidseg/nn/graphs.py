"""Each network as the parts the engine calls, tensors in and tensors out: what an exported graph holds.

The engine does not call a network in one piece: the VOS network encodes a frame once and then
reads its memory and decodes once per object (the decoder's trunk, then the refine module, which
online adaptation fine-tunes per video); the interactive network runs its lower part once
per selection and its upper part per click; the tracker embeds its template once and searches
every frame. :func:`network_parts` names those parts of a network, each a module whose inputs and
outputs are plain tensors (the memory, the cached features and the template kernel become explicit
inputs), with example inputs and the axes that change at run time. An ONNX export writes one graph
per part; a runtime other than torch implements the same parts.

The VOS readout is per object (``O = 1``): each extra object costs its own readout and decode, as
in the engine. Log temperatures and other learnt scalars are baked into the graphs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from vidseg.nn.interactive import MAP_CHANNELS, InteractiveNet, LowerFeatures
from vidseg.nn.polar import PolarTrackerNet
from vidseg.nn.propagation import MATCH_CHANNELS, FrameFeatures, PropagationNet, RefineInputs


@dataclass(frozen=True)
class NetworkPart:
    """One part of a network: ``module`` maps ``inputs`` (name -> example tensor) to ``outputs``
    (names, in order); ``dynamic`` names the axes of inputs and outputs that vary at run time."""

    name: str
    module: nn.Module
    inputs: dict[str, torch.Tensor]
    outputs: tuple[str, ...]
    dynamic: dict[str, dict[int, str]] = field(default_factory=dict)


class _VosEncode(nn.Module):
    def __init__(self, net: PropagationNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        f = self.net.encode(image)
        return f.f2, f.f4, f.f8, f.key


class _VosReadout(nn.Module):
    """One object's reading of the memory: (1, 6, h, w) long- and short-term matches.

    The same numbers as :func:`~vidseg.nn.propagation.match_dense` for one frame and one object,
    written for a graph: the softmax temperature scales the query keys (N x C) instead of the
    similarities (N x M), and the best matches are read from the scaled similarities, which saves a
    pass over the (N, M) similarities per reference group."""

    def __init__(self, net: PropagationNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, key: torch.Tensor, long_keys: torch.Tensor, long_masks: torch.Tensor,
                short_keys: torch.Tensor, short_masks: torch.Tensor) -> torch.Tensor:
        temperature = self.net.log_temperature.exp()
        query = key.flatten(2)[0].t() * temperature  # (N, C)
        groups = [_scaled_match(query, keys[0], masks[0], temperature)
                  for keys, masks in ((long_keys, long_masks), (short_keys, short_masks))]
        return torch.cat(groups).view(1, 2 * MATCH_CHANNELS, *key.shape[-2:])


def _scaled_match(query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor, temperature: torch.Tensor) -> torch.Tensor:
    """(3, N): soft segmentation, best match to the object and to the rest, from query (N, C)
    already multiplied by the temperature t, reference keys (C, M) and one object's mask (1, M)."""
    scaled = query @ keys  # t * cosine, (N, M)
    soft = (torch.softmax(scaled, dim=-1) @ mask.t())[:, 0]
    penalty = 2.0 * temperature * mask  # (1, M), the match penalties of match_dense, times t
    best_fg = (scaled + penalty).amax(dim=-1) / temperature - 2.0
    best_bg = (scaled - penalty).amax(dim=-1) / temperature
    return torch.stack([soft, best_fg, best_bg])


class _VosTrunk(nn.Module):
    """The decoder up to the refine module, for one object: what the refine module reads."""

    def __init__(self, net: PropagationNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, f2: torch.Tensor, f4: torch.Tensor, f8: torch.Tensor, matches: torch.Tensor,
                prior: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.net.decoder.trunk(FrameFeatures(f2, f4, f8, f8), matches, prior)  # the trunk reads no key
        return x.d2, x.pre_logits, x.ref_segs, x.prior


class _VosRefine(nn.Module):
    """The refine module (the part online adaptation fine-tunes): logits at stride 2."""

    def __init__(self, net: PropagationNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, d2: torch.Tensor, pre_logits: torch.Tensor, ref_segs: torch.Tensor,
                prior: torch.Tensor) -> torch.Tensor:
        return self.net.decoder.refine(RefineInputs(d2, pre_logits, ref_segs, prior))


class _InteractiveLower(nn.Module):
    def __init__(self, net: InteractiveNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, crop: torch.Tensor) -> tuple[torch.Tensor, ...]:
        lower = self.net.lower(crop)
        return lower.f2, lower.f4, lower.f8, lower.region


class _InteractiveUpper(nn.Module):
    def __init__(self, net: InteractiveNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, f2: torch.Tensor, f4: torch.Tensor, f8: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        return self.net.upper(LowerFeatures(f2, f4, f8, f8[:, :0]), maps)


class _TrackerTemplate(nn.Module):
    def __init__(self, net: PolarTrackerNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, template: torch.Tensor) -> torch.Tensor:
        return self.net.template_kernel(template)


class _TrackerSearch(nn.Module):
    def __init__(self, net: PolarTrackerNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, kernel: torch.Tensor, search: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.net.track(kernel, search)
        return out.score, out.box, out.rays


def network_parts(arch: str, net: nn.Module) -> list[NetworkPart]:
    """The parts of ``net`` (a network of registry name ``arch``) in eval mode, with example inputs."""
    net = net.eval()
    with torch.no_grad():
        if arch == "vos":
            return _vos_parts(net)
        if arch == "interactive":
            return _interactive_parts(net)
        if arch == "tracker":
            return _tracker_parts(net)
    raise ValueError(f"no parts are defined for network {arch!r}")


def _vos_parts(net: PropagationNet) -> list[NetworkPart]:
    image = torch.rand(1, 3, 64, 96)
    f2, f4, f8, key = _VosEncode(net)(image)
    m = key.shape[-2] * key.shape[-1]
    refs = dict(long_keys=key.flatten(2), long_masks=torch.rand(1, 1, m),
                short_keys=key.flatten(2), short_masks=torch.rand(1, 1, m))
    matches = _VosReadout(net)(key, *refs.values())
    trunk = _VosTrunk(net)(f2, f4, f8, matches, torch.rand(1, 1, 64, 96))
    refine_inputs = dict(zip(("d2", "pre_logits", "ref_segs", "prior"), trunk))
    frame_axes = {"image": {2: "height", 3: "width"}, **{n: {2: f"h{s}", 3: f"w{s}"} for n, s in
                                                         (("f2", 2), ("f4", 4), ("f8", 8), ("key", 8))}}
    memory_axes = {"long_keys": {2: "long"}, "long_masks": {2: "long"}, "short_keys": {2: "short"},
                   "short_masks": {2: "short"}}
    half = {2: "h2", 3: "w2"}
    return [
        NetworkPart("encode", _VosEncode(net).eval(), {"image": image}, ("f2", "f4", "f8", "key"), frame_axes),
        NetworkPart("readout", _VosReadout(net).eval(), {"key": key, **refs}, ("matches",),
                    {"key": frame_axes["key"], **memory_axes, "matches": {2: "h8", 3: "w8"}}),
        NetworkPart("trunk", _VosTrunk(net).eval(),
                    {"f2": f2, "f4": f4, "f8": f8, "matches": matches, "prior": torch.rand(1, 1, 64, 96)},
                    ("d2", "pre_logits", "ref_segs", "prior_half"),
                    {**{n: frame_axes[n] for n in ("f2", "f4", "f8")}, "matches": {2: "h8", 3: "w8"},
                     "prior": frame_axes["image"], **{n: half for n in ("d2", "pre_logits", "ref_segs", "prior_half")}}),
        NetworkPart("refine", _VosRefine(net).eval(), refine_inputs, ("logits",),
                    {**{n: half for n in refine_inputs}, "logits": half}),
    ]


def _interactive_parts(net: InteractiveNet) -> list[NetworkPart]:
    s = net.config.crop
    crop = torch.rand(1, 3, s, s)
    f2, f4, f8, _ = _InteractiveLower(net)(crop)
    return [
        NetworkPart("lower", _InteractiveLower(net).eval(), {"crop": crop}, ("f2", "f4", "f8", "region")),
        NetworkPart("upper", _InteractiveUpper(net).eval(),
                    {"f2": f2, "f4": f4, "f8": f8, "maps": torch.rand(1, MAP_CHANNELS, s, s)}, ("logits",)),
    ]


def _tracker_parts(net: PolarTrackerNet) -> list[NetworkPart]:
    c = net.config
    template = torch.rand(1, 3, c.template, c.template)
    kernel = _TrackerTemplate(net)(template)
    search = torch.rand(1, 3, c.search, c.search)
    grid = {2: "map", 3: "map"}
    return [
        NetworkPart("template", _TrackerTemplate(net).eval(), {"template": template}, ("kernel",)),
        NetworkPart("search", _TrackerSearch(net).eval(), {"kernel": kernel, "search": search},
                    ("score", "box", "rays"),
                    {"search": {2: "side", 3: "side"}, "score": grid, "box": grid, "rays": grid}),
    ]


def run_part(part: NetworkPart, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """The torch answer of ``part`` for ``inputs`` (name -> tensor), as a tuple in ``part.outputs`` order."""
    with torch.no_grad():
        out = part.module(*(inputs[name] for name in part.inputs))
    return out if isinstance(out, tuple) else (out,)

