import pytest
import torch

from vidseg.nn.propagation import (
    PropagationNet,
    PropagationNetConfig,
    match_references,
    masks_to_key_grid,
)


def tiny_batch(b=2, h=64, w=96):
    torch.manual_seed(0)
    frames = torch.rand(b, 3, 3, h, w)
    mask = (torch.rand(b, 1, h, w) > 0.5).float()
    return frames, mask




def test_refine_starts_as_identity_on_the_pre_segmentation():
    model = PropagationNet().eval()
    frames, mask = tiny_batch()
    with torch.no_grad():
        pred = model(frames, mask, mask, mask)
    assert torch.equal(pred.logits, pred.pre_logits)


def test_reference_segmentation_copies_the_mask_of_the_matching_position():
    # three reference positions with orthogonal keys; the query matches position 1 exactly
    keys = torch.eye(3).unsqueeze(0)  # (1, C=3, M=3)
    masks = torch.tensor([[[0.0, 1.0, 0.0]]])  # object only at position 1
    query = torch.tensor([0.0, 1.0, 0.0]).view(1, 3, 1, 1)
    out = match_references(query, keys, masks, torch.tensor(5.0))  # temperature e^5: near arg-max
    soft, best_fg, best_bg = out[0, 0, :, 0, 0].tolist()
    # best match to the rest: positions 0 and 2, orthogonal to the query (cosine 0)
    assert soft > 0.99 and best_fg == pytest.approx(1.0) and best_bg == pytest.approx(0.0)


def test_masks_on_the_key_grid_are_area_shares():
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., :8, :4] = 1
    grid = masks_to_key_grid(mask)
    assert grid.shape == (1, 1, 4) and grid[0, 0].tolist() == [0.5, 0.0, 0.0, 0.0]


def test_image_sides_must_be_multiples_of_16():
    with pytest.raises(ValueError, match="multiples of 16"):
        PropagationNet().encode(torch.rand(1, 3, 50, 64))


@pytest.mark.parametrize("layout", ["mixed", "all_object", "no_object", "three objects"])
def test_fast_inference_matching_equals_the_general_path(layout):
    torch.manual_seed(1)
    query = torch.nn.functional.normalize(torch.randn(1, 8, 4, 6), dim=1)
    keys = torch.nn.functional.normalize(torch.randn(1, 8, 50), dim=1)
    mixed = torch.rand(1, 1, 50).round() * torch.where(torch.rand(1, 1, 50) < 0.3, torch.rand(1, 1, 50), 1.0)
    masks = {"mixed": mixed, "all_object": torch.ones(1, 1, 50), "no_object": torch.zeros(1, 1, 50),
             "three objects": torch.cat([mixed, torch.ones(1, 1, 50), 1.0 - mixed], dim=1)}[layout]
    temperature = torch.tensor(2.3)
    with torch.enable_grad():  # the general path
        general = match_references(query, keys, masks, temperature).detach()
    with torch.no_grad():  # the fast path
        fast = match_references(query, keys, masks, temperature)
    assert torch.allclose(general, fast, atol=1e-5)


LITE = PropagationNetConfig(encoder="lite0", widths=(0, 0, 16, 0), key_dim=8, decoder_width=8, refine_width=4)


def test_lite_encoder_trains_every_parameter_but_keeps_its_batchnorm_statistics():
    torch.manual_seed(0)
    model = PropagationNet(LITE).train()
    frames, mask = tiny_batch()
    stats = model.encoder.body._bn0.running_mean.clone()
    pred = model(frames, mask, mask, mask)
    assert pred.logits.shape == (2, 1, 32, 48)
    (pred.logits.square().mean() + pred.pre_logits.square().mean()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert all(n.startswith("decoder.refine") for n in missing), missing
    assert torch.equal(model.encoder.body._bn0.running_mean, stats)  # ImageNet statistics kept
    assert model.encoder.widths == (16, 24, 16)


def test_only_a_lite_encoder_has_pretrained_weights_and_unknown_encoders_are_refused():
    with pytest.raises(ValueError, match="only an EfficientNet-Lite"):
        PropagationNet().load_pretrained_encoder()
    with pytest.raises(ValueError, match="encoder must be"):
        PropagationNetConfig(encoder="resnet50")


def test_a_config_stored_before_the_encoder_option_builds_the_separable_network():
    stored = {"widths": [16, 32, 64, 96], "key_dim": 32, "decoder_width": 32, "refine_width": 16}
    assert PropagationNetConfig.from_dict(stored).encoder == "separable"
