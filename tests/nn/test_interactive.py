import pytest
import torch

from vidseg.nn.interactive import InteractiveNet, InteractiveNetConfig, box_at, region_targets

TINY = InteractiveNetConfig(widths=(8, 8, 16, 16), upper_width=16, decoder_width=8, crop=64)




def test_upper_part_reuses_cached_lower_features():
    net = InteractiveNet(TINY).eval()
    crops = torch.rand(1, 3, 64, 64)
    lower = net.lower(crops)
    a = net.upper(lower, torch.zeros(1, 5, 64, 64))
    b = net.upper(lower, torch.ones(1, 5, 64, 64))
    assert not torch.equal(a, b)  # the correction maps change the mask
    assert torch.allclose(net(crops, torch.zeros(1, 5, 64, 64))[0], a)


def test_upper_refuses_maps_of_the_wrong_shape():
    net = InteractiveNet(TINY)
    with pytest.raises(ValueError, match="maps must be"):
        net.upper(net.lower(torch.rand(1, 3, 64, 64)), torch.rand(1, 3, 64, 64))


def test_region_targets_and_box_at_recover_a_known_box():
    masks = torch.zeros(1, 1, 64, 64)
    masks[0, 0, 16:48, 8:40] = 1  # box x 8..40, y 16..48
    objectness, dist = region_targets(masks, 8)
    assert objectness[0, 0, 3, 3] == 1 and objectness[0, 0, 0, 7] == 0
    # A region map equal to the targets (objectness as a large logit) gives the box back exactly.
    region = torch.cat([(objectness * 20 - 10), dist], dim=1)[0]
    assert box_at(region, 20, 30, 64) == pytest.approx((8, 16, 40, 48), abs=1e-4)


@pytest.mark.parametrize("radius", [-1, 0.5, 33, True, "5"])
def test_config_rejects_a_click_disk_out_of_range(radius):
    with pytest.raises(ValueError, match="click_disk"):
        InteractiveNetConfig(click_disk=radius)
    assert InteractiveNetConfig(click_disk=5).click_disk == 5 and InteractiveNetConfig().click_disk == 0


@pytest.mark.parametrize("cap", [0, 3, 300, True, "80"])
def test_config_rejects_a_click_cap_out_of_range(cap):
    with pytest.raises(ValueError, match="click_cap"):
        InteractiveNetConfig(click_cap=cap)
    assert InteractiveNetConfig(click_cap=80).click_cap == 80 and InteractiveNetConfig().click_cap == 40


def test_config_rejects_a_crop_that_is_not_a_multiple_of_16():
    with pytest.raises(ValueError, match="multiple of 16"):
        InteractiveNetConfig(crop=100)


def test_lite_trunk_gives_the_same_shapes_and_trains_every_layer_but_its_statistics():
    torch.manual_seed(0)
    config = InteractiveNetConfig(widths=(0, 0, 16, 0), upper_width=16, decoder_width=8, crop=64, encoder="lite0")
    net = InteractiveNet(config).train()
    stats = net.backbone.body._bn0.running_var.clone()
    logits, region = net(torch.rand(2, 3, 64, 64), torch.rand(2, 5, 64, 64))
    assert logits.shape == (2, 1, 32, 32) and region.shape == (2, 5, 8, 8)
    logits.square().mean().backward()
    assert all(p.grad is not None for n, p in net.named_parameters() if not n.startswith("region"))
    assert torch.equal(net.backbone.body._bn0.running_var, stats)
    with pytest.raises(ValueError, match="only an EfficientNet-Lite"):
        InteractiveNet(TINY).load_pretrained_encoder()


def test_grown_upper_answers_as_before_until_trained_then_differs():
    from dataclasses import replace

    from vidseg.nn.interactive import grown_upper

    net = InteractiveNet(TINY).eval()
    grown = grown_upper(net, 2).eval()
    assert grown.config.upper_expand == 2
    assert sum(p.numel() for p in grown.parameters()) > sum(p.numel() for p in net.parameters())
    crops, maps = torch.rand(1, 3, 64, 64), torch.rand(1, 5, 64, 64)
    with torch.no_grad():
        assert torch.equal(net.upper(net.lower(crops), maps), grown.upper(grown.lower(crops), maps))
        grown.upper_part.extra8[0].body[-1].weight.fill_(1.0)  # what training would move
        assert not torch.equal(net.upper(net.lower(crops), maps), grown.upper(grown.lower(crops), maps))
    with pytest.raises(ValueError, match="already has upper blocks"):
        grown_upper(grown, 2)
    with pytest.raises(ValueError, match="upper_expand"):
        replace(TINY, upper_expand=-1)


def test_expanded_residual_learns_from_its_zero_start():
    from vidseg.nn.blocks import ExpandedResidual

    block = ExpandedResidual(4, 3)
    x = torch.rand(2, 4, 8, 8)
    assert torch.equal(block(x), x)
    block(x).pow(2).sum().backward()
    assert block.body[-1].weight.grad.abs().sum() > 0  # the zero scale still gets a gradient
