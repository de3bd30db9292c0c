import numpy as np
import pytest

from vidseg.engine.track.outlines import polygon_mask, ray_polygon, resample_rays



def test_resample_rays_keeps_a_circle_and_interpolates_around_it():
    assert resample_rays(np.full(36, 5.0), 7) == pytest.approx(np.full(7, 5.0))
    assert resample_rays(np.array([1.0, 3.0]), 4) == pytest.approx([1.0, 2.0, 3.0, 2.0])


def test_polygon_mask_fills_the_outline():
    square = np.array([[10, 10], [29, 10], [29, 19], [10, 19]], np.float32)
    mask = polygon_mask(square, 40, 40)
    assert mask.sum() == 20 * 10 and mask[10, 10] and not mask[9, 10]
    assert not polygon_mask(None, 4, 4).any()


def test_ray_polygon_puts_each_ray_at_its_angle_and_scale():
    polygon = ray_polygon(np.array([10.0, 20.0]), np.array([1.0, 2.0, 3.0, 4.0]), 4, 2.0)
    assert polygon == pytest.approx(np.array([[12, 20], [10, 24], [4, 20], [10, 12]]), abs=1e-5)
