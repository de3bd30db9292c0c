import numpy as np
import pytest

from vidseg.eval.tracking import box_overlap, centre_error, mask_box, precision_at, success_auc, success_curve


def test_box_overlap_and_centre_error():
    assert box_overlap((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert box_overlap((0, 0, 10, 10), None) == 0.0 and box_overlap((0, 0, 2, 2), (5, 5, 2, 2)) == 0.0
    assert centre_error((0, 0, 10, 10), (3, 4, 10, 10)) == pytest.approx(5.0)
    assert centre_error(None, (0, 0, 1, 1)) == float("inf")


def test_success_auc_of_perfect_half_and_lost_tracks():
    truth = [(0, 0, 10, 10)] * 4
    assert success_auc(truth, truth) == pytest.approx(20 / 21)  # overlap 1 is not above threshold 1
    half = [(5, 0, 10, 10)] * 4                                   # overlap 1/3
    assert success_curve(half, truth)[:7].all() and not success_curve(half, truth)[7:].any()
    assert success_auc([None] * 4, truth) == 0.0


def test_precision_and_frames_without_ground_truth_are_skipped():
    truth = [(0, 0, 10, 10), None, (0, 0, 10, 10)]
    pred = [(15, 0, 10, 10), (500, 500, 1, 1), (30, 0, 10, 10)]
    assert precision_at(pred, truth, 20) == 0.5
    with pytest.raises(ValueError):
        precision_at(pred[:2], truth)


def test_mask_box():
    mask = np.zeros((10, 10), bool)
    mask[2:5, 3:9] = True
    assert mask_box(mask) == (3, 2, 6, 3) and mask_box(np.zeros((3, 3))) is None
