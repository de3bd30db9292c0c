import pytest
import torch

from vidseg.errors import InputError
from vidseg.nn.checkpoint import load_model, save_checkpoint
from vidseg.nn.propagation import PropagationNet, PropagationNetConfig

SMALL = PropagationNetConfig(widths=(8, 8, 16, 16), key_dim=8, decoder_width=8, refine_width=4)


def test_round_trip_keeps_config_weights_and_meta(tmp_path):
    model = PropagationNet(SMALL)
    save_checkpoint(tmp_path / "m.pt", "propagation", model, {"steps": 3})
    loaded, meta = load_model(tmp_path / "m.pt", "propagation")
    assert loaded.config == SMALL and meta == {"steps": 3} and not loaded.training
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_model(tmp_path / "nope.pt", "propagation")


def test_truncated_file(tmp_path):
    save_checkpoint(tmp_path / "m.pt", "propagation", PropagationNet(SMALL))
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        load_model(tmp_path / "cut.pt", "propagation")


@pytest.mark.parametrize("content", [b"", b"hello world garbage" * 10])
def test_empty_or_garbage_file(tmp_path, content):
    (tmp_path / "bad.pt").write_bytes(content)
    with pytest.raises(InputError, match="not a vidseg checkpoint"):
        load_model(tmp_path / "bad.pt", "propagation")


def test_other_architecture_is_refused(tmp_path):
    save_checkpoint(tmp_path / "m.pt", "propagation", PropagationNet(SMALL))
    with pytest.raises(InputError, match="'polar' one is needed"):
        load_model(tmp_path / "m.pt", "polar")


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    save_checkpoint(tmp_path / "m.pt", "propagation", PropagationNet(SMALL))
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    payload["config"]["key_dim"] = 16
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(InputError, match="does not fit"):
        load_model(tmp_path / "bad.pt", "propagation")


def test_a_plain_torch_file_is_not_a_checkpoint(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="not a vidseg checkpoint"):
        load_model(tmp_path / "other.pt", "propagation")
