import math

import pytest
import torch
import torch.nn.functional as F

from vidseg.nn.losses import balanced_bce, bootstrapped_bce, box_iou, guided_outline_loss, polar_iou_loss



def test_polar_iou_loss_is_log_of_sum_max_over_sum_min():
    pred = torch.tensor([[1.0, 2.0, 3.0]])
    target = torch.tensor([[2.0, 2.0, 1.0]])
    assert polar_iou_loss(pred, target).item() == pytest.approx(math.log((2 + 2 + 3) / (1 + 2 + 1)), rel=1e-5)
    assert polar_iou_loss(target, target).item() == pytest.approx(0.0, abs=1e-6)
    assert polar_iou_loss(pred[:0], target[:0]).item() == 0.0


def test_polar_iou_loss_pulls_short_rays_out_and_long_rays_in():
    pred = torch.tensor([[1.0, 5.0]], requires_grad=True)
    polar_iou_loss(pred, torch.tensor([[3.0, 3.0]])).backward()
    assert pred.grad[0, 0] < 0 < pred.grad[0, 1]


def test_box_iou_of_distances_from_a_shared_point():
    a = torch.tensor([[1.0, 1.0, 1.0, 1.0], [2.0, 1.0, 0.0, 1.0]])
    b = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    assert box_iou(a, b).tolist() == pytest.approx([1.0, 2 / 6])   # 1x2 overlap of a 2x2 and a 2x2


def test_balanced_bce_weighs_the_few_positives_like_all_negatives():
    logits = torch.zeros(1, 1, 4, 4)
    positive = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    positive[0, 0, 0, 0] = True
    assert balanced_bce(logits, positive, torch.ones_like(positive)).item() == pytest.approx(math.log(2), rel=1e-5)


def test_bootstrapped_bce_weights_pixels_before_choosing_the_hardest():
    logits = torch.zeros(1, 1, 4, 4)
    target = torch.zeros(1, 1, 4, 4)
    target[..., 0, :] = 1  # every pixel equally wrong: the weights alone decide which are hardest
    weight = torch.ones(1, 1, 4, 4)
    weight[..., 3, :] = 3
    plain = bootstrapped_bce(logits, target, keep=0.25)
    weighted = bootstrapped_bce(logits, target, keep=0.25, weight=weight)
    assert torch.isclose(weighted, 3 * plain)  # the four hardest are the weighted row


def test_normalized_focal_loss_weights_the_wrong_pixels_and_keeps_its_size():
    from vidseg.nn.losses import normalized_focal_loss

    target = torch.zeros(1, 1, 4, 4)
    target[..., :2] = 1
    logits = torch.where(target > 0.5, 4.0, -4.0)  # all right, confidently
    logits[0, 0, 0, 0] = -2.0  # one object pixel missed
    logits.requires_grad_(True)
    loss = normalized_focal_loss(logits, target)
    loss.backward()
    grads = logits.grad.abs()[0, 0]
    # The missed pixel takes nearly all the gradient; plain BCE would share it out far more.
    assert grads[0, 0] > 0.9 * grads.sum()
    # Renormalised: as the errors shrink, the loss stays near the wrong pixel's own BCE, not its 1/16th.
    bce = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(-2.0), torch.tensor(1.0))
    assert loss.item() > 0.5 * bce.item()


def test_segmentation_loss_takes_either_pixel_loss_and_refuses_others():
    from vidseg.nn.losses import segmentation_loss

    coarse = (torch.rand(2, 1, 8, 8) > 0.5).float()
    target = torch.nn.functional.interpolate(coarse, scale_factor=2.0)  # (2, 1, 16, 16), the logits' stride 2
    logits, right = torch.randn(2, 1, 8, 8), torch.where(coarse > 0.5, 6.0, -6.0)
    for pixel in ("bce", "nfl"):
        assert segmentation_loss(right, target, pixel=pixel) < segmentation_loss(logits, target, pixel=pixel)
    with pytest.raises(ValueError, match="pixel loss"):
        segmentation_loss(logits, target, pixel="focal")


def test_guided_outline_loss_is_lower_for_logits_the_filter_snaps_onto_the_target():
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    target = ((xx - 15) ** 2 + (yy - 16) ** 2 < 10 ** 2).float()[None, None]
    images = (0.2 + 0.6 * target).expand(1, 3, 32, 32)  # the object stands out of the image
    small = F.adaptive_avg_pool2d(target, (16, 16))
    right = guided_outline_loss(torch.logit(small.clamp(0.02, 0.98)), images, target, 1, 1e-3)
    shifted = guided_outline_loss(torch.logit(small.roll(3, dims=-1).clamp(0.02, 0.98)), images, target, 1, 1e-3)
    assert right < 0.1 < shifted
