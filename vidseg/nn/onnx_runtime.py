"""The networks run by ONNX Runtime: stand-ins with the methods the engine calls on the torch ones.

``onnx_network(arch, net)`` exports ``net``'s parts (:mod:`vidseg.nn.graphs`) in memory and returns
an object the engine uses exactly as it uses ``net``: ``encode`` / ``decoder.trunk`` /
``decoder.refine`` for VOS, ``lower`` / ``upper`` for the interactive network, ``template_kernel`` /
``track`` for the tracker, all taking and returning torch tensors. So the engine has one code path
and two implementations of its networks. What stays in torch: online adaptation, which fine-tunes
a torch copy of the refine module (a deep copy of the stand-in's refine is that copy). The memory
readout runs once per object here (torch shares one similarity among objects).

ONNX Runtime uses as many threads as torch is set to (``torch.get_num_threads()`` when the network
is built), so ``--threads`` governs both. Needs the ``onnx`` extra.
"""

from __future__ import annotations

import copy
import io

import torch
from torch import nn

from vidseg.nn.graphs import NetworkPart, network_parts
from vidseg.nn.interactive import InteractiveNet, LowerFeatures
from vidseg.nn.onnx_export import require_onnx, trace_part
from vidseg.nn.polar import PolarTrackerNet, TrackerOutput
from vidseg.nn.propagation import FrameFeatures, PropagationNet, Refine, RefineInputs

BACKENDS = ("auto", "torch", "onnxruntime")


def resolve_backend(backend: str) -> str:
    """"auto" -> "onnxruntime" where the ``onnx`` extra is installed, else "torch"; others as given.

    ONNX Runtime is the faster of the two on a CPU (``benchmarks/backends.py``: segment 1.5-1.6x,
    the same J&F; a click 1.4x; track 1.5x), so it is the default wherever it can run."""
    if backend != "auto":
        return backend
    import importlib.util

    have = all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))
    return "onnxruntime" if have else "torch"


class OrtPart:
    """One part as an ONNX Runtime session: tensors in by name, a tuple of tensors out."""

    def __init__(self, part: NetworkPart) -> None:
        import onnxruntime as ort

        buffer = io.BytesIO()
        trace_part(part, buffer)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        # Waiting threads sleep instead of spinning: the engine runs decoding, flow and writing
        # threads beside the network, and spinning ones took their cores (measured: segment 8.5 FPS
        # with spinning, torch 14.3, on the idle 2-core machine).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]  # the exporter drops unused ones

    def __call__(self, **tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        feed = {name: tensors[name].detach().contiguous().numpy() for name in self.inputs}
        return tuple(torch.from_numpy(out) for out in self.session.run(None, feed))


class _Runtime:
    """What every stand-in answers like a torch module does: config, eval(), to(cpu)."""

    def __init__(self, net: nn.Module) -> None:
        self.config = net.config

    def eval(self) -> _Runtime:
        return self

    def to(self, device: str | torch.device) -> _Runtime:
        if torch.device(device).type != "cpu":
            raise ValueError("the onnxruntime backend runs on the CPU; use the torch backend for a GPU")
        return self


class OrtRefine(nn.Module):
    """The refine module: ONNX Runtime for predictions, torch (the wrapped module) wherever a
    gradient is wanted; a deep copy (online adaptation's per-video head) is a plain torch copy."""

    def __init__(self, refine: Refine, part: OrtPart) -> None:
        super().__init__()
        self.refine = refine
        self._part = part

    def forward(self, x: RefineInputs) -> torch.Tensor:
        if torch.is_grad_enabled() and self.training:
            return self.refine(x)
        return torch.cat([self._part(d2=x.d2[i:i + 1], pre_logits=x.pre_logits[i:i + 1], ref_segs=x.ref_segs[i:i + 1],
                                     prior=x.prior[i:i + 1])[0] for i in range(x.d2.shape[0])])

    def __deepcopy__(self, memo: dict) -> Refine:
        return copy.deepcopy(self.refine, memo)


class OrtDecoder:
    def __init__(self, net: PropagationNet, trunk: OrtPart, refine: OrtPart) -> None:
        self._trunk = trunk
        self.refine = OrtRefine(net.decoder.refine, refine).eval()

    def trunk(self, feats: FrameFeatures, matches: torch.Tensor, prior: torch.Tensor) -> RefineInputs:
        """As ``Decoder.trunk``: N objects (one graph run each) -> RefineInputs of N items."""
        outs = [self._trunk(f2=feats.f2[i:i + 1], f4=feats.f4[i:i + 1], f8=feats.f8[i:i + 1],
                            matches=matches[i:i + 1], prior=prior[i:i + 1]) for i in range(matches.shape[0])]
        return RefineInputs(*(torch.cat(column) for column in zip(*outs)))


class OrtPropagationNet(_Runtime):
    def __init__(self, net: PropagationNet) -> None:
        super().__init__(net)
        parts = {p.name: p for p in network_parts("vos", net)}
        self._encode, self._read = OrtPart(parts["encode"]), OrtPart(parts["readout"])
        self.decoder = OrtDecoder(net, OrtPart(parts["trunk"]), OrtPart(parts["refine"]))
        self.log_temperature = net.log_temperature.detach()

    def encode(self, image: torch.Tensor) -> FrameFeatures:
        """As ``PropagationNet.encode``: B images (one graph run each) -> features of B items."""
        outs = [self._encode(image=image[i:i + 1]) for i in range(image.shape[0])]
        return FrameFeatures(*(torch.cat(column) for column in zip(*outs)))

    def read(self, query_key: torch.Tensor, long_keys: torch.Tensor, long_masks: torch.Tensor,
             short_keys: torch.Tensor, short_masks: torch.Tensor) -> torch.Tensor:
        """As ``PropagationNet.read`` for one frame (B = 1): one graph run per object."""
        return torch.stack([self._read(key=query_key, long_keys=long_keys, long_masks=long_masks[:, o:o + 1],
                                       short_keys=short_keys, short_masks=short_masks[:, o:o + 1])[0]
                            for o in range(long_masks.shape[1])], dim=1)


class OrtInteractiveNet(_Runtime):
    def __init__(self, net: InteractiveNet) -> None:
        super().__init__(net)
        parts = {p.name: p for p in network_parts("interactive", net)}
        self._lower, self._upper = OrtPart(parts["lower"]), OrtPart(parts["upper"])

    def lower(self, crops: torch.Tensor) -> LowerFeatures:
        return LowerFeatures(*self._lower(crop=crops))

    def upper(self, lower: LowerFeatures, maps: torch.Tensor) -> torch.Tensor:
        return self._upper(f2=lower.f2, f4=lower.f4, f8=lower.f8, maps=maps)[0]


class OrtPolarTrackerNet(_Runtime):
    def __init__(self, net: PolarTrackerNet) -> None:
        super().__init__(net)
        parts = {p.name: p for p in network_parts("tracker", net)}
        self._template, self._search = OrtPart(parts["template"]), OrtPart(parts["search"])

    def template_kernel(self, template: torch.Tensor) -> torch.Tensor:
        return self._template(template=template)[0]

    def track(self, kernel: torch.Tensor, search: torch.Tensor) -> TrackerOutput:
        return TrackerOutput(*self._search(kernel=kernel, search=search))


_STAND_INS = {"vos": OrtPropagationNet, "interactive": OrtInteractiveNet, "tracker": OrtPolarTrackerNet}


def onnx_network(arch: str, net: nn.Module) -> _Runtime:
    """``net`` (registry name ``arch``) run by ONNX Runtime; InputError naming the extra when it is
    not installed."""
    require_onnx()
    return _STAND_INS[arch](net)
