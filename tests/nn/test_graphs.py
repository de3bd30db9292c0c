"""Each network part against its exported ONNX graph, on random inputs, at the example size and another."""

import numpy as np
import pytest
import torch

from vidseg.nn.graphs import network_parts, run_part
from vidseg.nn.interactive import InteractiveNet, InteractiveNetConfig
from vidseg.nn.polar import PolarTrackerConfig, PolarTrackerNet
from vidseg.nn.propagation import PropagationNet, PropagationNetConfig

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

NETWORKS = {
    "vos": lambda: PropagationNet(PropagationNetConfig(widths=(8, 8, 16, 16), key_dim=8, decoder_width=8,
                                                       refine_width=8)),
    "interactive": lambda: InteractiveNet(InteractiveNetConfig(widths=(8, 8, 16, 16), upper_width=16,
                                                               decoder_width=8, crop=64)),
    "tracker": lambda: PolarTrackerNet(PolarTrackerConfig(widths=(8, 8, 16, 16), width=16, template=64, search=128,
                                                          kernel=4, rays=12)),
}
MAX_DIFFERENCE = 1e-4  # float32 kernels in another order: measured up to ~5e-5 on the shipped networks


def _randomised(net: torch.nn.Module) -> torch.nn.Module:
    """BatchNorm statistics and the zero-initialised last layers away from their defaults, so a
    graph that dropped one of them would show."""
    torch.manual_seed(0)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
        if isinstance(module, torch.nn.Conv2d) and not module.weight.abs().sum():
            torch.nn.init.normal_(module.weight, std=0.1)
    return net.eval()


@pytest.fixture(scope="module", params=sorted(NETWORKS))
def exported(request, tmp_path_factory):
    from vidseg.nn.onnx_export import export_part

    arch = request.param
    folder = tmp_path_factory.mktemp(arch)
    parts = network_parts(arch, _randomised(NETWORKS[arch]()))
    sessions = {p.name: ort.InferenceSession(str(folder / export_part(p, folder / f"{p.name}.onnx")["file"]),
                                             providers=["CPUExecutionProvider"]) for p in parts}
    return arch, parts, sessions


def _agree(part, session, inputs):
    ours = run_part(part, inputs)
    theirs = session.run(None, {k: v.numpy() for k, v in inputs.items()})
    assert [tuple(t.shape) for t in ours] == [a.shape for a in theirs]
    return max(float(np.abs(a - t.numpy()).max()) for a, t in zip(theirs, ours))


def test_every_part_agrees_with_its_graph_at_the_example_size(exported):
    _, parts, sessions = exported
    for part in parts:
        assert _agree(part, sessions[part.name], part.inputs) < MAX_DIFFERENCE, part.name


def test_run_time_axes_stay_dynamic(exported):
    arch, parts, sessions = exported
    by_name = {p.name: p for p in parts}
    if arch == "vos":  # another frame size, a memory of three frames
        image = torch.rand(1, 3, 96, 160)
        f2, f4, f8, key = run_part(by_name["encode"], {"image": image})
        assert _agree(by_name["encode"], sessions["encode"], {"image": image}) < MAX_DIFFERENCE
        m = key.shape[-2] * key.shape[-1]
        memory = {"key": key, "long_keys": torch.cat([key.flatten(2)] * 3, dim=2), "long_masks": torch.rand(1, 1, 3 * m),
                  "short_keys": key.flatten(2), "short_masks": torch.rand(1, 1, m)}
        assert _agree(by_name["readout"], sessions["readout"], memory) < MAX_DIFFERENCE
        (matches,) = run_part(by_name["readout"], memory)
        trunk = {"f2": f2, "f4": f4, "f8": f8, "matches": matches, "prior": torch.rand(1, 1, 96, 160)}
        assert _agree(by_name["trunk"], sessions["trunk"], trunk) < MAX_DIFFERENCE
        refine = dict(zip(by_name["refine"].inputs, run_part(by_name["trunk"], trunk)))
        assert _agree(by_name["refine"], sessions["refine"], refine) < MAX_DIFFERENCE
    elif arch == "tracker":  # a larger search crop
        kernel = by_name["search"].inputs["kernel"]
        search = {"kernel": kernel, "search": torch.rand(1, 3, 192, 192)}
        assert _agree(by_name["search"], sessions["search"], search) < MAX_DIFFERENCE
    else:  # the interactive crop has one size per network: fixed in the graph, so ONNX Runtime can plan for it
        assert sessions["lower"].get_inputs()[0].shape == [1, 3, 64, 64]


def test_the_readout_graph_reads_what_the_torch_readout_reads():
    """The readout part is written for a graph (temperature on the query); it must give the
    engine's torch readout (``PropagationNet.read``) for masks that are 0, 1 and in between."""
    net = _randomised(NETWORKS["vos"]())
    readout = {p.name: p for p in network_parts("vos", net)}["readout"]
    torch.manual_seed(1)
    key = torch.nn.functional.normalize(torch.randn(1, 8, 6, 10), dim=1)
    refs = torch.nn.functional.normalize(torch.randn(1, 8, 120), dim=1)
    masks = (torch.rand(1, 1, 120) * 3 - 1).clamp(0, 1)  # a third each: 0, 1, partly
    with torch.no_grad():
        ours = run_part(readout, {"key": key, "long_keys": refs, "long_masks": masks,
                                  "short_keys": refs[..., :60], "short_masks": masks[..., :60]})[0]
        engine = net.read(key, refs, masks, refs[..., :60], masks[..., :60])[0]
    assert ours.shape == engine.shape
    assert float((ours - engine).abs().max()) < 1e-5
