import numpy as np
import pytest
import torch

from vidseg.engine.track.polar_tracker import PolarTracker, TrackerOptions
from vidseg.errors import InputError
from vidseg.nn.polar import PolarTrackerConfig, PolarTrackerNet, TrackerOutput, location_grid
from vidseg.ops.boxes import Box

CONFIG = PolarTrackerConfig(widths=(8, 8, 16, 16), width=16, template=64, search=128, kernel=4, rays=8)
SIDE = 16  # the red square's side
FIRST = Box(20, 50, 20 + SIDE, 50 + SIDE)  # the square of frame_with_square(20)


class RedFinder(PolarTrackerNet):
    """A stand-in network with known answers: the object is wherever the crop is red; its box and
    rays are those of a SIDE x SIDE square (in crop pixels, which the tests keep at 2x frame pixels)."""

    def template_kernel(self, template):
        return torch.zeros(1, 1, 1, 1)

    def track(self, kernel, search):
        k = self.config.kernel
        h, w = search.shape[-2] // 8 - k + 1, search.shape[-1] // 8 - k + 1
        ys, xs = location_grid(h, k).long(), location_grid(w, k).long()
        red = search[0, 0][ys][:, xs] - search[0, 1][ys][:, xs]
        score = torch.where(red > 0.5, 10.0, -10.0)[None, None]
        half = float(SIDE)  # the square in crop pixels (2x) is 2 * SIDE wide: SIDE each side of its centre
        return TrackerOutput(score, torch.full((1, 4, h, w), half), torch.full((1, 8, h, w), half))


def frame_with_square(x: int | None, y: int = 50) -> np.ndarray:
    frame = np.zeros((120, 160, 3), np.uint8)
    if x is not None:
        frame[max(y, 0):y + SIDE, max(x, 0):max(x + SIDE, 0), 0] = 255
    return frame


def test_follows_reports_lost_when_the_object_leaves_and_finds_it_again():
    tracker = PolarTracker(RedFinder(CONFIG))
    first = tracker.start(frame_with_square(20), FIRST)
    assert first.box == FIRST and first.polygon.shape == (8, 2)
    path = [30, 40, 52, 64, 76, 88, 100, 112, 124, 136, None, None, None, 30, 40]
    results = [tracker.step(frame_with_square(x)) for x in path]
    for x, result in zip(path, results):
        if x is None:
            assert result.lost and result.polygon is None and not result.mask(120, 160).any()
        else:
            assert not result.lost, x
            cx, cy = result.box.center
            assert abs(cx - (x + SIDE / 2)) <= 6 and abs(cy - (50 + SIDE / 2)) <= 6, (x, result.box)
    # The outline: the rays (SIDE crop px = SIDE / 2 frame px) around a location on the square.
    mask = results[-1].mask(120, 160)
    assert 120 < mask.sum() < 260 and mask[50:66, 40:56].sum() > 0.25 * mask.sum()


def test_template_update_and_other_ray_counts_run():
    tracker = PolarTracker(RedFinder(CONFIG), TrackerOptions(template_update=0.5, rays=20, update_above=0.5))
    tracker.start(frame_with_square(20), FIRST)
    result = tracker.step(frame_with_square(26))
    assert not result.lost and result.polygon.shape == (20, 2)


def test_real_network_runs_on_a_frame():
    torch.manual_seed(0)
    tracker = PolarTracker(PolarTrackerNet(CONFIG).eval())
    tracker.start(frame_with_square(20), FIRST)
    result = tracker.step(frame_with_square(24))
    assert result.mask(120, 160).shape == (120, 160)


@pytest.mark.parametrize("box, words", [(Box(10, 10, 10, 15), "zero area"), (Box(10, 10, 15, 9), "zero area"),
                                        (Box(10, float("nan"), 15, 15), "finite"), (Box(10, 10, float("inf"), 15), "finite"),
                                        (Box(200, 10, 205, 15), "outside"), (Box(-20, 10, -10, 15), "outside")])
def test_bad_boxes_are_refused(box, words):
    with pytest.raises(InputError, match=words):
        PolarTracker(RedFinder(CONFIG)).start(frame_with_square(20), box)


def test_box_partly_outside_is_accepted():
    assert PolarTracker(RedFinder(CONFIG)).start(frame_with_square(20), Box(-5, -5, 20, 20)).box == Box(-5, -5, 20, 20)


def test_a_box_right_of_the_frame_height_is_inside_a_wide_frame():
    """The frame is 160 wide and 120 high: x0 = 130 is inside it, so width and height are not swapped."""
    box = Box(130, 50, 130 + SIDE, 50 + SIDE)
    tracker = PolarTracker(RedFinder(CONFIG))
    assert tracker.start(frame_with_square(130), box).box == box
    with pytest.raises(InputError, match="outside the 160x120"):
        tracker.start(frame_with_square(20), Box(20, 130, 36, 146))  # below the 120 rows


def test_bad_options_are_refused():
    with pytest.raises(InputError, match="3 to 360"):
        TrackerOptions(rays=2)
    with pytest.raises(InputError, match="3 to 360"):
        TrackerOptions(rays=100_000_000)  # the Python API is capped as --rays is
    with pytest.raises(InputError, match="multiple of 16"):
        TrackerOptions(search=200)
    with pytest.raises(InputError, match="0 to 1"):
        TrackerOptions(template_update=1.5)


def test_search_frame_offers_separate_candidates_best_first_and_leaves_the_state():
    tracker = PolarTracker(RedFinder(CONFIG))
    tracker.start(frame_with_square(20), FIRST)
    frame = frame_with_square(30)
    frame[10:10 + SIDE, 120:120 + SIDE, 0] = 255  # a second red square
    found = tracker.search_frame(frame, count=8)
    centres = [r.box.center for r in found]
    assert any(abs(x - 38) <= 8 and abs(y - 58) <= 8 for x, y in centres)
    assert any(abs(x - 128) <= 8 and abs(y - 18) <= 8 for x, y in centres)
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
    # Peaks are apart: no two candidates share a location.
    assert len({(round(x), round(y)) for x, y in centres}) == len(found)
    assert all(r.score < 0.01 for r in tracker.search_frame(frame_with_square(None), count=3))
    # The tracked place did not move: the next step still finds the square near the first one.
    assert abs(tracker.step(frame_with_square(24)).box.x0 - 24) <= 6


def test_place_moves_where_the_next_step_searches():
    tracker = PolarTracker(RedFinder(CONFIG))
    tracker.start(frame_with_square(20), FIRST)
    frame = frame_with_square(20)
    frame[50:50 + SIDE, 120:120 + SIDE, 0] = 255  # two squares: the search follows the placed one
    tracker.place(Box(118, 50, 118 + SIDE, 50 + SIDE))
    assert abs(tracker.step(frame).box.x0 - 120) <= 6
    with pytest.raises(RuntimeError):
        PolarTracker(RedFinder(CONFIG)).place(Box(0, 0, 4, 4))
