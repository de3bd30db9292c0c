import numpy as np
import pytest

from vidseg.ops.crops import MIN_SIDE, CropWindow, cut, cut_smooth, paste, paste_region


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
                                    CropWindow(90.4, 50.6, 60.0), CropWindow(200.0, 10.0, 30.0)])
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
