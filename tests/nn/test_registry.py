"""Every registered model: built, run forward and backward, saved and loaded; shipped weights checked."""

import shutil

import pytest
import torch

from vidseg.errors import InputError
from vidseg.nn import registry
from vidseg.nn.interactive import InteractiveNetConfig
from vidseg.nn.losses import region_loss, tracker_loss
from vidseg.nn.polar import PolarTrackerConfig
from vidseg.nn.propagation import PropagationNetConfig
from vidseg.nn.registry import create_model, list_models, load_model, save_model


def _vos_loss(net):
    frames, mask = torch.rand(2, 3, 3, 64, 96), (torch.rand(2, 1, 64, 96) > 0.5).float()
    pred = net(frames, mask, mask, mask)
    assert pred.logits.shape == (2, 1, 32, 48)
    return pred.logits.square().mean() + pred.pre_logits.square().mean()


def _interactive_loss(net):
    logits, region = net(torch.rand(2, 3, 64, 64), torch.rand(2, 5, 64, 64))
    assert logits.shape == (2, 1, 32, 32) and region.shape == (2, 5, 8, 8)
    return logits.mean() + region_loss(region, (torch.rand(2, 1, 64, 64) > 0.5).float())


def _tracker_loss(net):
    out = net(torch.rand(2, 3, 64, 64), torch.rand(2, 3, 128, 128))
    m = out.score.shape[-1]
    positive = torch.zeros(2, 1, m, m, dtype=torch.bool)
    positive[:, :, m // 2, m // 2] = True
    rays = out.rays.shape[1]
    return tracker_loss(out, positive, torch.ones_like(positive), torch.full((2, 4, m, m), 20.0),
                        torch.full((2, rays, m, m), 15.0)).total


# name -> (a tiny config, a scalar loss of a forward pass on random inputs)
TINY = {
    "vos": (PropagationNetConfig(widths=(8, 8, 16, 16), key_dim=8, decoder_width=8, refine_width=4), _vos_loss),
    "interactive": (InteractiveNetConfig(widths=(8, 8, 16, 16), upper_width=16, decoder_width=8, crop=64),
                    _interactive_loss),
    "tracker": (PolarTrackerConfig(widths=(8, 8, 16, 16), width=16, template=64, search=128, kernel=4, rays=12),
                _tracker_loss),
}
# Layers that start at zero on purpose (the refine module begins as the identity), so their
# inputs see no gradient on the first step.
ZERO_START = ("decoder.refine",)


def test_every_model_has_a_tiny_test_config():
    assert sorted(TINY) == list_models()


@pytest.mark.parametrize("name", list_models())
def test_forward_backward_every_parameter_gets_a_gradient(name):
    torch.manual_seed(0)
    config, loss_of = TINY[name]
    net = create_model(name, config)
    assert net.training
    loss_of(net).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert all(n.startswith(ZERO_START) for n in missing), missing


@pytest.mark.parametrize("name", list_models())
def test_checkpoint_round_trip(name, tmp_path):
    config, _ = TINY[name]
    net = create_model(name, config)
    save_model(tmp_path / "m.pt", name, net, {"steps": 3})
    loaded = load_model(name, tmp_path / "m.pt")
    assert loaded.config == config and not loaded.training
    assert registry.load_with_meta(name, tmp_path / "m.pt")[1] == {"steps": 3}
    for (key, a), (_, b) in zip(net.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), key


def test_float16_storage_loads_as_float32_with_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    config, _ = TINY["vos"]
    net = create_model("vos", config).eval()
    save_model(tmp_path / "full.pt", "vos", net)
    save_model(tmp_path / "half.pt", "vos", net, storage=torch.float16)
    from vidseg.nn.checkpoint import read_checkpoint

    stored = read_checkpoint(tmp_path / "half.pt")["state_dict"].values()
    assert {v.dtype for v in stored if v.is_floating_point()} == {torch.float16}
    half = load_model("vos", tmp_path / "half.pt")
    assert all(p.dtype == torch.float32 for p in half.parameters())
    frames, mask = torch.rand(1, 3, 3, 64, 96), (torch.rand(1, 1, 64, 96) > 0.5).float()
    with torch.no_grad():
        a, b = net(frames, mask, mask, mask).logits, half(frames, mask, mask, mask).logits
    assert (a - b).abs().max() < 1e-2 * max(1.0, a.abs().max().item())


@pytest.mark.parametrize("name, tag", [(n, t) for n in list_models() for t in registry.REGISTRY[n].weights])
def test_every_shipped_file_loads_once_in_eval_mode(name, tag):
    net = load_model(name, tag)
    assert not net.training and load_model(name, tag) is net
    assert (load_model(name) is net) == (tag == "default")


def test_a_rewritten_checkpoint_is_read_again(tmp_path):
    config, _ = TINY["vos"]
    save_model(tmp_path / "m.pt", "vos", create_model("vos", config))
    first = load_model("vos", tmp_path / "m.pt")
    assert load_model("vos", tmp_path / "m.pt") is first
    save_model(tmp_path / "m.pt", "vos", create_model("vos", config), {"again": True})
    assert load_model("vos", tmp_path / "m.pt") is not first


def test_damaged_shipped_weights_are_refused(tmp_path, monkeypatch):
    shutil.copytree(registry.weights_dir(), tmp_path / "weights")
    path = tmp_path / "weights" / registry.REGISTRY["tracker"].weights["default"].file
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    monkeypatch.setattr(registry, "weights_dir", lambda: tmp_path / "weights")
    registry._load_shipped.cache_clear()
    try:
        with pytest.raises(InputError, match="damaged"):
            load_model("tracker")
    finally:
        registry._load_shipped.cache_clear()


def test_another_models_checkpoint_is_refused_with_what_it_holds(tmp_path):
    save_model(tmp_path / "m.pt", "vos", create_model("vos", TINY["vos"][0]))
    with pytest.raises(InputError, match=r"holds a 'vos' network, but a 'tracker' one .*vidseg train tracker"):
        load_model("tracker", tmp_path / "m.pt")


def test_a_checkpoint_from_before_the_registry_still_loads(tmp_path):
    from vidseg.nn.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "old.pt", "propagation", create_model("vos", TINY["vos"][0]))
    assert load_model("vos", tmp_path / "old.pt").config == TINY["vos"][0]


def test_a_stored_config_that_fails_validation_is_a_one_line_error(tmp_path):
    save_model(tmp_path / "m.pt", "interactive", create_model("interactive", TINY["interactive"][0]))
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    payload["config"]["crop"] = 65  # not a multiple of 16: the config refuses it
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(InputError, match="does not fit") as error:
        load_model("interactive", tmp_path / "bad.pt")
    assert "\n" not in str(error.value)


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    save_model(tmp_path / "m.pt", "vos", create_model("vos", TINY["vos"][0]))
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    payload["config"]["key_dim"] = 16
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(InputError, match="does not fit"):
        load_model("vos", tmp_path / "bad.pt")


@pytest.mark.parametrize("content, message", [(None, "does not exist"), (b"PK\x03\x04 cut", "truncated"),
                                              ({"weights": 1}, "not a vidseg checkpoint"), (b"", "not a vidseg checkpoint"),
                                              (b"hello world garbage" * 10, "not a vidseg checkpoint")])
def test_unreadable_files_are_refused(tmp_path, content, message):
    path = tmp_path / "m.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        torch.save(content, path)
    with pytest.raises(InputError, match=message):
        load_model("vos", path)


def test_unknown_names_and_tags_are_refused():
    with pytest.raises(InputError, match="no model named 'sam2'"):
        load_model("sam2")
    with pytest.raises(InputError, match="neither shipped vos weights"):
        load_model("vos", "newest")
    with pytest.raises(TypeError, match="PropagationNetConfig"):
        create_model("vos", TINY["tracker"][0])
