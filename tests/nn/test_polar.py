import pytest
import torch

from vidseg.nn.polar import PolarTrackerConfig, location_grid, xcorr_depthwise

TINY = PolarTrackerConfig(widths=(8, 8, 16, 16), width=16, template=64, search=128, kernel=4, rays=12)


def test_depthwise_correlation_matches_a_sliding_dot_product():
    search, kernel = torch.randn(2, 3, 6, 7), torch.randn(2, 3, 2, 2)
    out = xcorr_depthwise(search, kernel)
    assert out.shape == (2, 3, 5, 6)
    expected = (search[1, 2, 3:5, 4:6] * kernel[1, 2]).sum() / 4
    assert out[1, 2, 3, 4].item() == pytest.approx(expected.item(), rel=1e-5)


def test_the_map_centre_is_the_search_crop_centre():
    grid = location_grid(17, 8)
    assert grid[8].item() == pytest.approx((192 - 1) / 2)
    assert (grid[1:] - grid[:-1] == 8).all()




def test_fewer_than_three_rays_or_odd_sizes_are_refused():
    with pytest.raises(ValueError, match="at least 3"):
        PolarTrackerConfig(rays=2)
    with pytest.raises(ValueError, match="multiple of 16"):
        PolarTrackerConfig(search=200)


def test_config_round_trips_through_a_dict():
    assert PolarTrackerConfig.from_dict(TINY.to_dict()) == TINY


def test_lite_trunk_tracks_on_the_same_maps():
    torch.manual_seed(0)
    from vidseg.nn.polar import PolarTrackerNet

    config = PolarTrackerConfig(widths=(0, 0, 16, 0), width=16, template=64, search=128, kernel=4, rays=12,
                                encoder="lite0")
    out = PolarTrackerNet(config)(torch.rand(2, 3, 64, 64), torch.rand(2, 3, 128, 128))
    assert out.score.shape == (2, 1, 13, 13) and out.rays.shape == (2, 12, 13, 13)
    with pytest.raises(ValueError, match="encoder must be"):
        PolarTrackerConfig(encoder="vit")
