import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.ops.boxes import Box, check_box


def test_xywh_round_trip():
    box = Box.from_xywh(10, 20, 30, 40)
    assert box == Box(10, 20, 40, 60)
    assert box.to_xywh() == (10, 20, 30, 40)
    assert (box.width, box.height, box.center) == (30, 40, (25, 40))


def test_from_mask_is_tight_and_exclusive_on_a_non_square_frame():
    mask = np.zeros((30, 80), bool)  # 80 wide, 30 high: swapping width and height would fail
    mask[5:12, 60:75] = True
    assert Box.from_mask(mask) == Box(60, 5, 75, 12)
    assert Box.from_mask(np.zeros((4, 4), bool)) is None


def test_check_box_on_a_non_square_frame_catches_swapped_sides():
    check_box(Box(60, 5, 75, 25), width=80, height=30)  # inside an 80x30 frame
    with pytest.raises(InputError, match="outside the 30x80"):
        check_box(Box(60, 5, 75, 25), width=30, height=80)  # the same box, sides swapped


@pytest.mark.parametrize("values, message", [((1, 2, 1, 5), "zero area"), ((0, 0, float("nan"), 4), "finite"),
                                              ((100, 100, 120, 120), "outside"), (("a", 0, 1, 1), "four numbers")])
def test_bad_boxes_are_refused(values, message):
    with pytest.raises(InputError, match=message):
        check_box(values, width=50, height=40)


def test_pixels_clip_a_box_partly_outside():
    box = check_box(Box(-5.5, 10.2, 60, 39.5), width=50, height=40)
    assert box.pixels(50, 40) == (0, 10, 50, 40)


def test_parse_names_the_flag():
    assert Box.parse("1,2,3.5,4") == Box(1, 2, 3.5, 4)
    with pytest.raises(InputError, match=r"--box .*x0,y0,x1,y1"):
        Box.parse("1,2,3")
