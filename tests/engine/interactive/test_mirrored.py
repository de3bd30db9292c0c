import numpy as np
import torch

from vidseg.engine.interactive.mirrored import MirroredNet
from vidseg.nn.interactive import MAP_CHANNELS, InteractiveNet, InteractiveNetConfig

TINY = InteractiveNetConfig(widths=(8, 8, 16, 16), upper_width=16, decoder_width=8, crop=64)


def tiny_net() -> InteractiveNet:
    torch.manual_seed(0)
    net = InteractiveNet(TINY).eval()
    for p in net.parameters():  # random, not the zero-started heads: each view gives its own answer
        torch.nn.init.normal_(p, std=0.3)
    return net


def test_the_answer_is_the_mean_of_both_views_logits():
    net = tiny_net()
    crops, maps = torch.rand(1, 3, 64, 64), torch.rand(1, MAP_CHANNELS, 64, 64)
    with torch.no_grad():
        plain = net.upper(net.lower(crops), maps)
        mirrored = net.upper(net.lower(crops.flip(-1)), maps.flip(-1)).flip(-1)
        both = MirroredNet(net)
        answer = both.upper(both.lower(crops), maps)
    assert answer.shape == plain.shape == (1, 1, 32, 32)
    assert not torch.allclose(plain, mirrored, atol=1e-3)  # the views differ, so the test can fail
    torch.testing.assert_close(answer, (plain + mirrored) / 2)


def test_a_mirror_image_input_gets_the_mirror_image_answer():
    """Averaging both views makes the answer exactly left-right equivariant, which one view is not."""
    net, both = tiny_net(), MirroredNet(tiny_net())
    crops, maps = torch.rand(1, 3, 64, 64), torch.rand(1, MAP_CHANNELS, 64, 64)
    with torch.no_grad():
        answer = both.upper(both.lower(crops), maps)
        flipped = both.upper(both.lower(crops.flip(-1)), maps.flip(-1))
        single = net.upper(net.lower(crops), maps)
        single_flipped = net.upper(net.lower(crops.flip(-1)), maps.flip(-1))
    torch.testing.assert_close(flipped, answer.flip(-1))
    assert not torch.allclose(single_flipped, single.flip(-1), atol=1e-3)


def test_a_click_start_proposes_its_box_from_one_view(monkeypatch):
    """Selecting by a click reads the region map of the wide crop around it in one view, not two."""
    from vidseg.engine.interactive.click_segmenter import ClickSegmenter

    seg = ClickSegmenter("default", backend="torch")
    assert isinstance(seg.net, MirroredNet)
    calls = []
    lower = seg._one_view.lower
    monkeypatch.setattr(seg._one_view, "lower", lambda crops: calls.append(crops.shape) or lower(crops))
    image = np.full((120, 160, 3), 170, np.uint8)
    image[40:80, 60:110] = (40, 60, 160)
    x0, y0, x1, y1 = seg._box_from_click(image, 85, 60)
    assert len(calls) == 1
    assert x0 <= 85 < x1 and y0 <= 60 < y1
    assert seg.start(image, click=(85, 60)).shape == (120, 160)
