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


def test_a_click_seeds_its_colours_on_its_side():
    """A dark hull the box's margin of dark water marks as background: a positive click on it raises
    its colour's likelihood; a negative click on a colour the box holds lowers that one's."""
    crop = np.zeros((40, 40, 3), np.uint8)
    crop[:] = (20, 20, 120)  # dark water all round
    crop[10:30, 10:30] = (200, 200, 60)  # sand filling most of the box
    crop[24:30, 12:28] = (20, 20, 120)  # the hull, the water's colour
    inside = box_in_crop((10, 10, 30, 30), 40) > 0
    plain = colour_likelihood(crop, inside)
    hull = colour_likelihood(crop, inside, [(20, 27, True)])
    assert hull[27, 20] > plain[27, 20] + 0.05 and np.array_equal(hull[15, 15] > 0.5, plain[15, 15] > 0.5)
    sand = colour_likelihood(crop, inside, [(15, 15, False)])
    assert sand[15, 15] < plain[15, 15]
    assert np.array_equal(colour_likelihood(crop, inside, [(80, 80, True), (-1, 5, False)]), plain)  # off the crop


def test_seeds_do_not_depend_on_their_order():
    crop = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    inside = box_in_crop((8, 8, 24, 24), 32) > 0
    seeds = [(10, 10, True), (20, 12, False), (14, 22, True)]
    assert np.allclose(colour_likelihood(crop, inside, seeds), colour_likelihood(crop, inside, seeds[::-1]))
