import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.ops.crops import MIN_SIDE, CropWindow, check_stretch, cut, cut_smooth, paste, paste_region


def test_around_is_a_square_centred_on_the_box_with_its_margin():
    w = CropWindow.around((10, 20, 50, 40), margin=0.25)  # 40 x 20 box
    assert w.side == 60 and (w.x0, w.y0) == (0, 0)
    assert CropWindow.around((5, 5, 6, 6), 0.0).side == MIN_SIDE


def test_cut_then_paste_gives_back_the_region_exactly_at_scale_one():
    image = np.zeros((50, 80), np.float32)
    image[10:30, 20:45] = 1
    window = CropWindow(12.0, 5.0, 40.0)
    crop = cut(image, window, 40)
    assert crop[5:25, 8:33].min() == 1 and crop.sum() == image.sum()
    back = paste(crop, window, image.shape)
    np.testing.assert_allclose(back, image)


def test_cut_pads_with_zeros_past_the_image_edge():
    image = np.full((20, 20, 3), 200, np.uint8)
    crop = cut(image, CropWindow(-10.0, -10.0, 20.0), 20)
    assert (crop[:10, :10] == 0).all() and (crop[10:, 10:] == 200).all()


def test_to_crop_and_to_image_box_are_inverse():
    window = CropWindow(30.0, 40.0, 100.0)
    corners = window.to_crop([[30, 40]], 50)
    assert corners[0] == pytest.approx((-0.25, -0.25))
    assert window.to_image_box((0, 0, 50, 50), 50) == (30, 40, 130, 140)


def test_cut_smooth_keeps_the_geometry_and_averages_fine_texture():
    ys, xs = np.mgrid[0:400, 0:600]
    ramp = np.repeat(((xs + 2 * ys) / 1400 * 255).astype(np.uint8)[..., None], 3, 2)
    window = CropWindow.centred(300.0, 200.0, 350.0)
    assert np.abs(cut_smooth(ramp, window, 64).astype(int) - cut(ramp, window, 64).astype(int)).max() <= 3
    stripes = np.zeros((400, 600, 3), np.uint8)
    stripes[:, ::2] = 255
    assert abs(cut_smooth(stripes, window, 64).mean() - 127.5) < 3      # cut alone gives all 255 or all 0


@pytest.mark.parametrize("window", [CropWindow(30.3, 12.7, 41.5), CropWindow(-10.2, -5.5, 40.0),
                                    CropWindow(90.4, 50.6, 60.0), CropWindow(200.0, 10.0, 30.0),
                                    CropWindow(20.5, 30.2, 70.0, 35.0)])
def test_paste_region_is_paste_over_the_window_s_pixels_only(window):
    rng = np.random.default_rng(0)
    crop = rng.random((32, 32)).astype(np.float32) + 0.1
    full = paste(crop, window, (100, 120))
    where, region = paste_region(crop, window, (100, 120))
    # OpenCV maps each pixel on a 1/32-px grid, so the shifted map may round a few pixels to the
    # neighbouring grid point: equal but for such rounding.
    if region.size:
        assert np.abs(region - full[where]).max() < 0.05 and np.abs(region - full[where]).mean() < 1e-4
    outside = np.ones(full.shape, bool)
    outside[where] = False
    assert not full[outside].any()  # nothing pasted falls outside the region


def test_a_stretched_window_keeps_the_margin_and_a_shorter_side_of_at_least_its_share():
    box = (100, 50, 500, 150)  # 400 x 100
    assert CropWindow.around(box, 0.2, stretch=1.0) == CropWindow.around(box, 0.2)  # a square
    w = CropWindow.around(box, 0.2, stretch=2.0)
    assert (w.side, w.tall) == (560, 280) and w.box == (20, -40, 580, 240)  # 80 px each way, then 1/2
    w = CropWindow.around(box, 0.2, stretch=4.0)
    assert (w.side, w.tall) == (560, 260) and w.longest == 560  # the margin alone: 100 + 2 * 80
    tall = CropWindow.around((0, 0, 10, 40), 0.25, stretch=3.0)
    assert (tall.side, tall.tall) == (30, 60)  # 10 + 2 * 10 px of margin, more than 60 / 3
    assert CropWindow.around((0, 0, 30, 30), 0.2, stretch=3.0).height is None  # a square box: a square


def test_a_stretched_window_maps_points_boxes_and_pixels_consistently():
    window = CropWindow(20.0, 10.0, 80.0, 40.0)  # crop pixels per image pixel: 0.5 across, 1 down
    points = np.array([[20, 10], [59.5, 29.5], [99, 49]])
    crop_points = window.to_crop(points, 40)
    assert crop_points[0] == pytest.approx((-0.25, 0.0))
    np.testing.assert_allclose(window.to_image_points(crop_points, 40), points, atol=1e-4)
    box = (30.0, 20.0, 70.0, 30.0)
    assert window.to_image_box(window.box_to_crop(box, 40), 40) == pytest.approx(box)
    image = np.zeros((60, 120), np.float32)
    image[20:30, 40:80] = 1  # 40 x 10 in the image, 20 x 10 in the crop
    crop = cut(image, window, 40)
    assert crop.sum() == pytest.approx(200, abs=2) and crop[12:18, 12:18].min() == 1
    np.testing.assert_allclose(paste(crop, window, image.shape)[22:28, 44:76], 1, atol=1e-6)


def test_cut_smooth_halves_a_stretched_window_along_both_axes():
    ys, xs = np.mgrid[0:400, 0:600]
    ramp = np.repeat(((xs + 2 * ys) / 1400 * 255).astype(np.uint8)[..., None], 3, 2)
    window = CropWindow(50.0, 100.0, 500.0, 200.0)
    assert np.abs(cut_smooth(ramp, window, 64).astype(int) - cut(ramp, window, 64).astype(int)).max() <= 3


def test_check_stretch_takes_one_to_the_most_and_names_the_range():
    assert check_stretch(1) == 1.0 and check_stretch(2.5) == 2.5
    for bad in (0.5, 10, True, "2"):
        with pytest.raises(InputError, match="stretch is"):
            check_stretch(bad)
