import pytest
import torch

from vidseg.errors import InputError
from vidseg.nn.interactive import InteractiveNet, InteractiveNetConfig
from vidseg.nn.registry import load_with_meta, save_model
from vidseg.train.interpolate import keep_start

TINY = InteractiveNetConfig(widths=(8, 8, 16, 16), upper_width=16, decoder_width=8, crop=64)


def test_keeping_part_of_the_start_puts_the_weights_on_the_line_between(tmp_path):
    torch.manual_seed(0)
    start, tuned = InteractiveNet(TINY), InteractiveNet(TINY)
    save_model(tmp_path / "start.pt", "interactive", start)
    save_model(tmp_path / "tuned.pt", "interactive", tuned, {"trained_steps": 7})
    keep_start(tmp_path / "tuned.pt", tmp_path / "start.pt", "interactive", 0.25)
    mixed, meta = load_with_meta("interactive", tmp_path / "tuned.pt")
    for name, value in mixed.state_dict().items():
        a, b = start.state_dict()[name], tuned.state_dict()[name]
        expected = 0.25 * a + 0.75 * b if b.is_floating_point() else b
        assert torch.allclose(value, expected, atol=1e-6), name
    assert meta["trained_steps"] == 7 and meta["keep_init"]["share"] == 0.25


def test_keeping_part_of_another_network_is_one_line(tmp_path):
    save_model(tmp_path / "tuned.pt", "interactive", InteractiveNet(TINY))
    save_model(tmp_path / "other.pt", "interactive", InteractiveNet(InteractiveNetConfig(crop=64)))
    with pytest.raises(InputError, match="different networks"):
        keep_start(tmp_path / "tuned.pt", tmp_path / "other.pt", "interactive", 0.5)
    with pytest.raises(InputError, match="--keep-init"):
        keep_start(tmp_path / "tuned.pt", tmp_path / "tuned.pt", "interactive", 1.0)
