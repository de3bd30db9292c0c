import numpy as np
import pytest

from vidseg.data.occlusion import Occlusion, band_columns, occlude
from vidseg.errors import InputError

T, H, W = 20, 30, 60


def moving_object() -> tuple[np.ndarray, np.ndarray]:
    """A bright 6x6 square moving right 1 px a frame on a dark background."""
    frames = np.full((T, H, W, 3), 20, np.uint8)
    masks = np.zeros((T, H, W), np.uint8)
    for t in range(T):
        masks[t, 10:16, 10 + t:16 + t] = 1
        frames[t][masks[t] > 0] = 230
    return frames, masks


def test_the_wall_hides_the_object_exactly_on_the_hidden_frames_and_slides_in_and_out():
    frames, masks = moving_object()
    occlusion = Occlusion(start=6, hold=5, slide=3, margin=2)
    wall = np.full((H, W + 4, 3), 128, np.uint8)
    wall[:, 0] = 7  # marks the band's left edge
    out_frames, out_masks = occlude(frames, masks, occlusion, wall)
    for t in [*range(6, 11)]:  # hidden (the sliding frames may hide it too)
        assert out_masks[t].sum() == 0 and not (out_frames[t] == 230).any(), t
    for t in [*range(3), *range(14, T)]:  # before the wall comes, after it has gone
        assert np.array_equal(out_masks[t], masks[t]) and np.array_equal(out_frames[t], frames[t]), t
    spans = band_columns(occlusion, masks > 0, W)
    assert spans[:3] == [None] * 3 and spans[14:] == [None] * 6
    assert all(spans[t] == (14, 28) for t in range(6, 11))  # columns 16..25 of the hidden frames, 2 px margin
    lefts = [spans[t][0] for t in range(3, 14)]
    assert lefts == sorted(lefts)  # in from the left, out to the right
    # The wall moves with the band: its marked column is the band's left edge wherever that is on screen.
    assert (out_frames[8][:, 14] == 7).all() and (out_frames[8][:, 15] == 128).all()
    # The input is untouched, and pixels outside the band keep the clip's.
    assert frames[8].max() == 230 and np.array_equal(out_frames[8][:, :14], frames[8][:, :14])


def test_bad_occlusions_are_refused():
    frames, masks = moving_object()
    wall = np.zeros((H, W + 40, 3), np.uint8)
    with pytest.raises(InputError, match="too few"):
        occlude(frames, masks, Occlusion(start=15, hold=5), wall)
    with pytest.raises(InputError, match="do not fit"):
        occlude(frames, masks, Occlusion(start=5, hold=3), wall[:, :W])
    with pytest.raises(InputError, match="absent"):
        occlude(frames, np.zeros_like(masks), Occlusion(start=5, hold=3), wall)
    with pytest.raises(InputError):
        Occlusion(start=0, hold=3)
