from __future__ import annotations

import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.flow import backward_warp, forward_backward_occlusion


def constant_flow(h: int, w: int, dx: float, dy: float) -> np.ndarray:
    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


def test_warp_by_one_pixel_gives_the_shifted_pattern():
    image = np.arange(20, dtype=np.float32).reshape(4, 5)
    out = backward_warp(image, constant_flow(4, 5, 1.0, 0.0), border_value=-1.0)
    expected = np.full((4, 5), -1.0, np.float32)
    expected[:, :4] = image[:, 1:]
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32


def test_warp_down_keeps_channels_and_fills_the_border():
    image = np.random.default_rng(0).random((5, 6, 3))
    out = backward_warp(image, constant_flow(5, 6, 0.0, -1.0), border_value=0.5)
    assert out.shape == (5, 6, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[1:], image[:-1], rtol=1e-6)
    np.testing.assert_array_equal(out[0], 0.5)


def test_warp_half_pixel_is_the_mean_of_neighbours():
    image = np.array([[0.0, 1.0, 0.0, 1.0]], np.float32).repeat(3, axis=0)
    out = backward_warp(image, constant_flow(3, 4, 0.5, 0.0))
    np.testing.assert_allclose(out[:, :3], 0.5, atol=1e-6)
    assert np.all(out[:, 3] == 1.0)  # x = 3.5 is still within the last pixel: edge value


@pytest.mark.parametrize("channels", [0, 1, 5, 200])
def test_warp_any_number_of_channels(channels):
    image = np.random.default_rng(0).random((4, 5, channels)).astype(np.float32)
    out = backward_warp(image, constant_flow(4, 5, 1.0, 0.0))
    assert out.shape == (4, 5, channels)
    np.testing.assert_array_equal(out[:, :4], image[:, 1:])
    np.testing.assert_array_equal(out[:, 4], 0.0)


def test_warp_rejects_mismatched_flow():
    with pytest.raises(InputError):
        backward_warp(np.zeros((4, 5), np.float32), np.zeros((4, 6, 2), np.float32))


def test_constant_flow_and_its_negation_are_consistent_except_the_border():
    fw, bw = constant_flow(6, 7, 2.0, 0.0), constant_flow(6, 7, -2.0, 0.0)
    occluded = forward_backward_occlusion(fw, bw)
    expected = np.zeros((6, 7), bool)
    expected[:, 5:] = True  # x + 2 leaves the image
    np.testing.assert_array_equal(occluded, expected)


def test_inconsistent_pairs_are_flagged():
    fw = constant_flow(8, 8, 1.0, 1.0)
    bw = constant_flow(8, 8, -1.0, -1.0)
    bw[2:5, 2:5] = (3.0, 0.0)  # wrong backward flow where forward lands in rows/cols 2..4
    occluded = forward_backward_occlusion(fw, bw)
    expected = np.zeros((8, 8), bool)
    expected[1:4, 1:4] = True
    expected[7, :] = expected[:, 7] = True
    np.testing.assert_array_equal(occluded, expected)


def test_occlusion_tolerance_grows_with_motion():
    fw, bw = constant_flow(4, 40, 0.0, 0.0), constant_flow(4, 40, 0.0, 0.0)
    bw[..., 1] = 0.6  # |f + b|^2 = 0.36 <= beta
    assert not forward_backward_occlusion(fw, bw).any()
    bw[..., 1] = 0.8  # 0.64 > 0.01 * 0.64 + 0.5
    assert forward_backward_occlusion(fw, bw).all()
