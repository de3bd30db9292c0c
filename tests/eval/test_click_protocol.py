from __future__ import annotations

import numpy as np
import pytest

from vidseg.engine.interactive.clicks import Click
from vidseg.errors import InputError
from vidseg.eval.click_protocol import Clicker, clicks_to_reach, next_click, run_clicks
from vidseg.eval.metrics import disk


def square(shape=(40, 40), top=10, left=10, size=21) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[top : top + size, left : left + size] = True
    return mask


# --- next_click ------------------------------------------------------------------------------------


def test_empty_prediction_gives_positive_click_at_square_centre():
    gt = square()  # rows / cols 10..30, centre 20
    assert next_click(np.zeros_like(gt), gt) == Click(20, 20, True)


def test_prediction_larger_than_gt_gives_negative_click_in_the_excess():
    gt = square(top=10, left=10, size=10)  # rows / cols 10..19
    pred = gt.copy()
    pred[10:21, 20:31] = True  # an 11 x 11 excess to the right, rows 10..20, cols 20..30
    assert next_click(pred, gt) == Click(25, 15, False)


def test_thicker_error_wins_and_ties_go_to_false_positives():
    gt = np.zeros((30, 30), bool)
    pred = np.zeros((30, 30), bool)
    gt[2:7, 2:7] = True  # missed 5 x 5: its centre 3 px inside
    pred[20:25, 20:25] = True  # extra 5 x 5: as far inside, a tie
    assert next_click(pred, gt) == Click(22, 22, False)
    gt[2:8, 2:8] = True  # missed 6 x 6: its centre pixels 3 px inside too, still a tie
    assert not next_click(pred, gt).positive
    gt[2:9, 2:9] = True  # missed 7 x 7: 4 px inside, now the larger error
    assert next_click(pred, gt) == Click(5, 5, True)


def test_a_thin_error_with_more_pixels_loses_to_a_thick_one():
    # The published protocol compares how far inside each error its farthest pixel lies, not pixel
    # counts: a missed 1-px line of 28 pixels loses to 9 extra pixels in a 3 x 3 block.
    gt = np.zeros((30, 30), bool)
    gt[1, 1:29] = True
    pred = np.zeros((30, 30), bool)
    pred[10:13, 10:13] = True
    assert next_click(pred, gt) == Click(11, 11, False)


def test_clicked_pixels_are_not_clicked_again():
    gt = square(size=3)  # rows / cols 10..12: only the centre is 2 px inside
    first = next_click(np.zeros_like(gt), gt)
    assert first == Click(11, 11, True)
    again = next_click(np.zeros_like(gt), gt, [first])
    assert again is not None and again != first and again.positive
    one = np.zeros((5, 5), bool)
    one[2, 2] = True  # an error made of a clicked pixel alone: no click left
    assert next_click(np.zeros_like(one), one, [Click(2, 2, True)]) is None


def test_clicker_records_its_clicks_and_never_repeats_one():
    gt = square()
    clicker = Clicker(gt)
    pred = np.zeros_like(gt)  # the mask never changes: each click must go somewhere new
    made = [clicker.next(pred) for _ in range(3)]
    assert made[0] == Click(20, 20, True)
    assert len({(c.x, c.y) for c in made}) == 3
    assert clicker.clicks == made
    assert Clicker(gt).next(gt) is None and Clicker(gt).clicks == []


def test_image_border_counts_as_boundary():
    # A missed band along the left edge, 30 high and 9 wide: without padding the farthest pixel
    # would be on the border column; with it, the band's middle column (x = 4).
    gt = np.zeros((30, 30), bool)
    gt[:, :9] = True
    click = next_click(np.zeros_like(gt), gt)
    assert click.positive and click.x == 4


def test_ties_in_distance_take_the_first_pixel_in_row_major_order():
    gt = square(size=20)  # even side: four centre pixels equally far, (19, 19) first
    assert next_click(np.zeros_like(gt), gt) == Click(19, 19, True)


def test_no_error_gives_none():
    gt = square()
    assert next_click(gt.copy(), gt) is None
    empty = np.zeros((5, 5), bool)
    assert next_click(empty, empty) is None


def test_shape_mismatch_is_an_input_error():
    with pytest.raises(InputError):
        next_click(np.zeros((4, 4), bool), np.zeros((4, 5), bool))


# --- clicks_to_reach -------------------------------------------------------------------------------


def test_clicks_to_reach():
    ious = [0.5, 0.8, 0.86, 0.91, 0.95]
    assert clicks_to_reach(ious, 0.85) == 2
    assert clicks_to_reach(ious, 0.90) == 3
    assert clicks_to_reach(ious, 0.5) == 0  # the box alone suffices: no click
    assert clicks_to_reach(ious, 0.99) == 20  # never reached: the cap
    assert clicks_to_reach(ious, 0.99, max_clicks=3) == 3
    assert clicks_to_reach(ious, 0.95, max_clicks=3) == 3  # reached only after the cap


# --- run_clicks ------------------------------------------------------------------------------------


class DiskPainter:
    """Fake segmenter: the box gives nothing; each positive click adds a disk of radius 3, each
    negative click removes one."""

    def start(self, image, box):
        self.mask = np.zeros(image.shape[:2], bool)
        return self.mask.copy()

    def click(self, x, y, positive):
        stamp = np.zeros_like(self.mask)
        stamp[y - 3 : y + 4, x - 3 : x + 4] = disk(3).astype(bool)
        self.mask = self.mask | stamp if positive else self.mask & ~stamp
        return self.mask.copy()


def test_run_clicks_records_every_click_and_the_box():
    gt = np.zeros((40, 40), bool)
    gt[5:35, 5:35] = True  # 900 pixels: far more than 6 disks of 29 can cover
    run = run_clicks(DiskPainter(), np.zeros((40, 40, 3), np.uint8), gt, (5, 5, 35, 35), max_clicks=6)
    assert len(run.ious) == 7 and len(run.clicks) == 6 and len(run.click_seconds) == 6
    assert run.ious[0] == 0.0
    assert all(b > a for a, b in zip(run.ious, run.ious[1:]))  # each disk adds new object pixels
    assert all(c.positive for c in run.clicks)
    assert run.clicks[0] == Click(19, 19, True)
    assert run.start_seconds >= 0 and all(s >= 0 for s in run.click_seconds)


def test_run_clicks_stops_on_a_perfect_mask_and_carries_forward():
    gt = np.zeros((20, 20), bool)
    gt[7:14, 7:14] = disk(3).astype(bool)  # exactly one disk: perfect after the first click
    run = run_clicks(DiskPainter(), np.zeros((20, 20, 3), np.uint8), gt, (7, 7, 14, 14), max_clicks=20)
    assert run.clicks == [Click(10, 10, True)]
    assert run.ious == [0.0] + [1.0] * 20
    assert clicks_to_reach(run.ious, 0.9) == 1


def test_run_clicks_stops_at_threshold_only_after_five_clicks():
    gt = np.zeros((40, 40), bool)
    gt[2:38, 2:38] = True
    segmenter = DiskPainter()
    run = run_clicks(segmenter, np.zeros((40, 40, 3), np.uint8), gt, (2, 2, 38, 38), max_clicks=20, stop_at=0.0)
    assert len(run.clicks) == 5  # threshold met from the start, but 1, 3 and 5 clicks are measured
    assert len(run.ious) == 21 and run.ious[6:] == [run.ious[5]] * 15
    full = run_clicks(DiskPainter(), np.zeros((40, 40, 3), np.uint8), gt, (2, 2, 38, 38), max_clicks=20)
    assert full.ious[:6] == run.ious[:6] and len(full.clicks) == 20
