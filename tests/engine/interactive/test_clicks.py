import numpy as np
import pytest

from vidseg.engine.interactive.clicks import DISTANCE_CAP, check_click, distance_maps
from vidseg.errors import InputError


def test_distance_maps_are_one_on_a_click_and_zero_far_away():
    maps = distance_maps(np.array([[5, 5], [40, 10]], np.float32), np.array([True, False]), (20, 60))
    assert maps.shape == (2, 20, 60)
    assert maps[0, 5, 5] == 1 and maps[1, 10, 40] == 1
    assert maps[0, 5, 15] == pytest.approx(1 - 10 / DISTANCE_CAP)
    assert maps[0, 19, 59] == 0  # farther than the cap
    assert distance_maps(np.zeros((0, 2), np.float32), np.zeros(0, bool), (4, 4)).sum() == 0


def test_networks_fade_their_closeness_maps_over_the_same_distance_by_default():
    from vidseg.nn.interactive import InteractiveNetConfig

    # nn cannot import the engine's constant, so the network's default spells it again
    assert InteractiveNetConfig().click_cap == DISTANCE_CAP


def test_disk_maps_are_one_within_the_radius_and_zero_beyond():
    maps = distance_maps(np.array([[5, 5], [40, 10]], np.float32), np.array([True, False]), (20, 60), disk=3)
    assert set(np.unique(maps)) == {0.0, 1.0}
    assert maps[0, 5, 8] == 1 and maps[0, 5, 9] == 0 and maps[0, 7, 7] == 1 and maps[0, 8, 8] == 0
    assert maps[0].sum() == 29 and maps[1].sum() == 29  # the lattice points of a disk of radius 3
    assert maps[1, 5, 5] == 0 and maps[0, 10, 40] == 0  # each kind in its own map


def test_check_click_refuses_points_outside_the_image():
    assert check_click(3.7, 2, 20, 10) == (3, 2)
    with pytest.raises(InputError, match="outside the 20x10 image"):
        check_click(20, 5, 20, 10)
