import numpy as np

from vidseg.engine.interactive.selection_cues import box_in_crop, colour_likelihood, selection_maps


def test_box_in_crop_marks_the_box_clipped_to_the_crop():
    box = box_in_crop((-3, 2, 5, 40), 8)
    assert box[2:, :5].all() and box.sum() == 6 * 5


def test_colour_likelihood_favours_the_colours_inside_the_box():
    crop = np.zeros((20, 20, 3), np.uint8)
    crop[:] = (0, 0, 200)  # blue background
    crop[5:15, 5:15] = (200, 0, 0)  # red object filling the box
    inside = box_in_crop((4, 4, 16, 16), 20) > 0
    like = colour_likelihood(crop, inside)
    assert like[10, 10] > 0.9 and like[0, 0] < 0.2
    # A colour seen nowhere says "don't know".
    assert colour_likelihood(np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), bool))[0, 0] == 0.5


def test_selection_maps_stack_box_and_colour():
    maps = selection_maps(np.zeros((16, 16, 3), np.uint8), (4, 4, 12, 12))
    assert maps.shape == (2, 16, 16) and maps.dtype == np.float32
