import torch

from vidseg.engine.interactive.clicks import Click
from vidseg.train.correction_weights import clicked_error_weight, preserve_weight


def test_preserve_weight_raises_the_pixels_the_previous_mask_had_right():
    masks = torch.zeros(2, 1, 8, 8)
    masks[:, :, :, :4] = 1
    prev = torch.zeros(2, 1, 8, 8)
    prev[0, :, :, :2] = 1  # item 0: the left quarter right, the next quarter missed; item 1: no previous mask
    weight = preserve_weight(prev, masks, torch.zeros(2, 1, 4, 4), 2.0)  # at the logits' stride-2 size
    assert weight.shape == (2, 1, 4, 4)
    assert (weight[0, :, :, 0] == 3).all() and (weight[0, :, :, 1] == 1).all() and (weight[0, :, :, 2:] == 3).all()
    assert (weight[1] == 1).all()


def test_clicked_error_weight_raises_the_error_under_the_last_click_only():
    masks = torch.zeros(3, 1, 32, 32)
    masks[:, :, 4:12, 4:12] = 1  # a missed square the click points at ...
    masks[:, :, 20:28, 20:28] = 1  # ... and another missed square it does not
    prev = torch.zeros(3, 1, 32, 32)
    prev[:, :, 0, 31] = 1  # a previous mask, wrong on both squares (and at one corner pixel)
    clicks = [[Click(20, 20, True), Click(7.4, 7.6, True)], [], [Click(7, 7, True)]]  # sampled: floats
    prev[2] = 0  # crop 2: no previous mask (a box alone)
    weight = clicked_error_weight(prev, masks, clicks, torch.zeros(3, 1, 32, 32), 4.0, grow=2)
    assert (weight[0, 0, 4:12, 4:12] == 5).all() and weight[0, 0, 2, 7] == 5 and weight[0, 0, 7, 13] == 5
    assert weight[0, 0, 7, 15] == 1  # grown by 2 pixels, no more
    assert (weight[0, 0, 20:28, 20:28] == 1).all() and weight[0, 0, 16, 16] == 1
    assert (weight[1:] == 1).all()  # no click; no previous mask
    off = clicked_error_weight(prev, masks, [[Click(16, 2, True)], [], []], torch.zeros(3, 1, 16, 16), 4.0)
    assert off.shape == (3, 1, 16, 16) and (off == 1).all()  # a click on no error stresses nothing
