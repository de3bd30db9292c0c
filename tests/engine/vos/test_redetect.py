"""Finding a lost object again: presence check and tracker proposals (stand-in networks)."""

import numpy as np
import pytest

from tests.engine.track.test_polar_tracker import CONFIG, SIDE, RedFinder, frame_with_square
from vidseg.engine.vos.redetect import RedetectConfig, Redetector
from vidseg.errors import InputError

H, W = 120, 160


def redness(frame: np.ndarray):
    """A presence function: the mask-weighted share of red pixels (the object is the red square)."""
    red = (frame[..., 0] > 128) & (frame[..., 2] < 128)

    def presence(slot: int, mask: np.ndarray) -> float:
        return float((red * mask).sum() / mask.sum()) if mask.sum() else 0.0

    return presence


def probs_with(mask: np.ndarray) -> np.ndarray:
    """(2, H, W): object 1 exactly on ``mask``."""
    obj = mask.astype(np.float32)
    return np.stack([1 - obj, obj])


def square_mask(x: int, y: int = 50) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[y:y + SIDE, x:x + SIDE] = True
    return mask


def with_blue_wall(frame: np.ndarray, x0: int, x1: int) -> np.ndarray:
    frame = frame.copy()
    frame[:, x0:x1] = (0, 0, 255)
    return frame


def test_a_hidden_object_is_cleared_then_found_again_by_the_tracker():
    # The stand-in's score is flat over the square, so its first peaks sit on the square's edge; the
    # third candidate covers most of it, and the best candidate by presence must be the one taken.
    redetector = Redetector(RedetectConfig(lost_below=0.5, found_above=0.7, candidates=3), model=RedFinder(CONFIG))
    first = frame_with_square(20)
    redetector.start(first, probs_with(square_mask(20)))
    # Healthy: the propagated mask is on the square; it stays as it is.
    frame = frame_with_square(24)
    out = redetector.review(frame, probs_with(square_mask(24)), redness(frame))
    assert np.array_equal(out[1] > 0.5, square_mask(24)) and not redetector.lost(1)
    # A wall hides the square and the propagation's mask rides on the wall: lost, the mask is cleared.
    frame = with_blue_wall(frame_with_square(28), 0, 80)
    out = redetector.review(frame, probs_with(square_mask(40)), redness(frame))
    assert redetector.lost(1) and not (out[1] > 0.5).any() and np.allclose(out.sum(0), 1)
    # The square is back but the propagation has nothing: the tracker's proposal becomes the mask.
    frame = frame_with_square(100)
    out = redetector.review(frame, probs_with(np.zeros((H, W), bool)), redness(frame))
    assert not redetector.lost(1)
    found = out[1] > 0.5
    assert found[50:66, 100:116].mean() > 0.5 and found[:, :80].sum() == 0


def test_a_proposal_below_found_above_is_not_taken():
    redetector = Redetector(RedetectConfig(lost_below=0.5, found_above=1.0), model=RedFinder(CONFIG))
    redetector.start(frame_with_square(20), probs_with(square_mask(20)))
    frame = frame_with_square(20)
    redetector.review(frame, probs_with(square_mask(20)), redness(frame))  # usual presence 1.0
    frame = with_blue_wall(frame_with_square(20), 0, 60)
    redetector.review(frame, probs_with(square_mask(20)), redness(frame))
    assert redetector.lost(1)
    # Half of the square is covered: the proposal's presence is below 1.0 x usual, so still lost.
    frame = with_blue_wall(frame_with_square(100), 0, 108)
    out = redetector.review(frame, probs_with(np.zeros((H, W), bool)), redness(frame))
    assert redetector.lost(1) and not (out[1] > 0.5).any()


def test_objects_without_a_reference_and_unprompted_objects_are_left_alone():
    redetector = Redetector(model=RedFinder(CONFIG))
    redetector.start(frame_with_square(20), probs_with(square_mask(20)))
    frame = frame_with_square(20)
    probs = np.stack([np.full((H, W), 0.2, np.float32), probs_with(square_mask(60))[1] * 0.8,
                      np.full((H, W), 0.0, np.float32)])
    out = redetector.review(frame, probs, lambda slot, mask: None)
    assert out is probs and not redetector.lost(1) and not redetector.lost(2)


@pytest.mark.parametrize("fields", [{"lost_below": 0.0}, {"lost_below": 0.9, "found_above": 0.8},
                                    {"usual_rate": 0.0}, {"candidates": -1}])
def test_bad_settings_are_refused(fields):
    with pytest.raises(InputError):
        RedetectConfig(**fields)
