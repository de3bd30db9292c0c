from __future__ import annotations

import time

import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.eval.metrics import boundary_f, boundary_tolerance, decay, disk, recall, region_iou, seg2bmap


def square(shape=(100, 100), top=30, left=30, size=40) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[top : top + size, left : left + size] = True
    return mask


def test_region_iou_exact():
    pred = np.zeros((4, 4), bool)
    gt = np.zeros((4, 4), bool)
    pred[0, :2] = True  # 2 pixels
    gt[0, 1:4] = True  # 3 pixels, 1 shared
    assert region_iou(pred, gt) == pytest.approx(1 / 4)
    assert region_iou(gt, gt) == 1.0
    assert region_iou(pred, np.zeros_like(gt)) == 0.0


def test_region_iou_both_empty_is_one():
    empty = np.zeros((3, 5), bool)
    assert region_iou(empty, empty) == 1.0


def test_shape_mismatch_is_an_input_error():
    with pytest.raises(InputError, match=r"\(4, 4\).*\(4, 5\)"):
        region_iou(np.zeros((4, 4), bool), np.zeros((4, 5), bool))


def test_seg2bmap_marks_the_south_east_offset_outline():
    mask = np.zeros((5, 5), bool)
    mask[1:3, 1:3] = True
    # A pixel is on the boundary when it differs from its E, S or SE neighbour: a ring shifted
    # half a pixel up and left, around the one interior pixel (1, 1).
    expected = np.array(
        [
            [1, 1, 1, 0, 0],
            [1, 0, 1, 0, 0],
            [1, 1, 1, 0, 0],
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
        ],
        dtype=bool,
    )
    assert np.array_equal(seg2bmap(mask), expected)


def test_disk_is_x2_plus_y2_within_r2():
    assert disk(1).tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    assert disk(2).sum() == 13


def test_tolerance_is_ceil_of_diagonal_share():
    assert boundary_tolerance((480, 854)) == 8  # 0.008 * 979.6 = 7.84
    assert boundary_tolerance((100, 100)) == 2  # 0.008 * 141.4 = 1.13


def test_boundary_f_identical_masks_is_one():
    mask = square()
    assert boundary_f(mask, mask) == 1.0


def test_boundary_f_within_tolerance_is_one():
    gt = square()
    shifted = np.roll(gt, 2, axis=1)  # tolerance on 100x100 is 2 pixels
    assert boundary_f(shifted, gt) == 1.0


def test_boundary_f_beyond_tolerance_is_below_one():
    gt = square()
    shifted = np.roll(gt, 5, axis=1)
    # Only the top and bottom edges still match (the shifted parts of them excepted).
    score = boundary_f(shifted, gt)
    assert 0.2 < score < 0.8


def test_boundary_f_far_apart_is_zero():
    gt = square(top=5, left=5, size=10)
    pred = square(top=70, left=70, size=10)
    assert boundary_f(pred, gt) == 0.0


def test_boundary_f_empty_edge_cases():
    empty = np.zeros((50, 50), bool)
    mask = square((50, 50), 10, 10, 20)
    assert boundary_f(empty, empty) == 1.0  # P=1, R=1
    assert boundary_f(empty, mask) == 0.0  # P=1, R=0
    assert boundary_f(mask, empty) == 0.0  # P=0, R=1


def test_recall_counts_values_above_threshold():
    assert recall([0.2, 0.5, 0.51, 0.9]) == 0.5  # 0.5 itself is not above
    assert recall([0.2, 0.4], threshold=0.3) == 0.5


def test_decay_uses_davis_bins():
    # n=8: edges round(linspace(1, 8, 5)) - 1 = [0, 2, 4, 5, 7]; first bin 0..2, last bin 5..7
    values = [1.0, 1.0, 0.7, 0.5, 0.5, 0.4, 0.1, 0.1]
    assert decay(values) == pytest.approx(0.9 - 0.2)
    assert decay([0.3]) == 0.0
    assert decay([1.0, 0.0]) == 1.0  # edges [0, 0, 1, 1, 1]: first bin [1.0], last [0.0]


def davis2017_decay(values: np.ndarray) -> float:
    """db_statistics' decay from the DAVIS 2017 evaluation code, verbatim but for the uint8 cast."""
    ids = np.round(np.linspace(1, len(values), 4 + 1) + 1e-10) - 1
    ids = ids.astype(np.int64)
    d_bins = [values[ids[i] : ids[i + 1] + 1] for i in range(0, 4)]
    return np.nanmean(d_bins[0]) - np.nanmean(d_bins[3])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 25, 80, 300])
def test_decay_matches_davis2017_code(n):
    values = np.random.default_rng(n).random(n)
    assert decay(values) == pytest.approx(davis2017_decay(values))


def test_recall_and_decay_need_values():
    with pytest.raises(ValueError):
        recall([])
    with pytest.raises(ValueError):
        decay([])


def test_full_frame_is_fast():
    rng = np.random.default_rng(0)
    gt = np.zeros((480, 854), bool)
    gt[100:400, 200:600] = True
    pred = np.roll(gt, (6, -9), axis=(0, 1)) ^ (rng.random(gt.shape) > 0.999)
    boundary_f(pred, gt)
    start = time.perf_counter()
    for _ in range(20):
        region_iou(pred, gt)
        boundary_f(pred, gt)
    per_frame = (time.perf_counter() - start) / 20
    assert per_frame < 0.010
