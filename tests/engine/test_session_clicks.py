"""Boxes and clicks in video sessions: creating and correcting objects, results memory, restarts.

The interactive networks here are tiny and untrained, so the tests check behaviour, not quality.
``constant_net`` makes one whose mask is known: its head gives the same logit everywhere, so the
mask is the whole crop window (+) or nothing (-).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import vidseg
from vidseg.engine.interactive import click_segmenter
from vidseg.engine.interactive.clicks import Click
from vidseg.errors import InputError
from vidseg.nn.interactive import InteractiveNet, InteractiveNetConfig

TINY = InteractiveNetConfig(widths=(8, 8, 16, 16), upper_width=16, decoder_width=8, crop=64)


def tiny_net(seed: int = 0) -> InteractiveNet:
    torch.manual_seed(seed)
    return InteractiveNet(TINY).eval()


def constant_net(logit: float) -> InteractiveNet:
    net = tiny_net()
    with torch.no_grad():
        net.upper_part.head.weight.zero_()
        net.upper_part.head.bias.fill_(logit)
    return net


def open_session(clip, net: InteractiveNet | None = None):
    return vidseg.VideoSegmenter(model="flow", interactive_model=net or tiny_net()).open(clip.frames)


def only(labels, obj_id):
    return np.where(labels == obj_id, obj_id, 0).astype(np.uint8)


def unchanged_outside(before, after, obj_id):
    """Pixels that are not ``obj_id``'s in either map keep their id."""
    other = (before != obj_id) & (after != obj_id)
    return np.array_equal(before[other], after[other])


@pytest.fixture
def session(small_clip):
    with open_session(small_clip) as s:
        yield s


# --- creating objects --------------------------------------------------------------------------


def test_box_creates_an_object_whose_mask_is_the_segmenters(session):
    labels = session.add_box(3, 1, (180, 100, 290, 210))
    assert labels.shape == (240, 428) and labels.dtype == np.uint8
    assert np.array_equal(labels == 1, session._click_segmenter.mask)
    assert set(np.unique(labels)) <= {0, 1}
    assert session.result(3) is None  # nothing segmented yet: a box is a prompt, not a result


def test_box_mask_covers_the_box_with_a_full_net(small_clip):
    with open_session(small_clip, constant_net(10.0)) as s:
        labels = s.add_box(0, 7, (100, 50, 150, 120))
    assert (labels[50:120, 100:150] == 7).all()
    assert not (labels[:, :60] == 7).any()  # the crop window stops near the box


def test_first_positive_click_creates_an_object(session):
    labels = session.add_clicks(2, 4, [(240, 160, True), Click(250, 170, False)])
    assert np.array_equal(labels == 4, session._click_segmenter.mask)
    assert [c.positive for c in session._click_segmenter.state.clicks] == [True, False]


def test_propagation_from_a_box_segments_every_later_frame(session):
    session.add_box(4, 2, (200, 120, 290, 210))
    frames = [i for i, _ in session.propagate()]
    assert frames == list(range(4, 12))
    assert session.result(3) is None and session.result(4) is not None


# --- correcting objects ------------------------------------------------------------------------


def test_repeated_add_clicks_continue_one_selection(session):
    session.add_box(5, 1, (200, 120, 290, 210))
    state = session._click_segmenter.state
    session.add_clicks(5, 1, [(240, 160, True)])
    session.add_clicks(5, 1, [Click(210, 130, False), (260, 180, True)])
    assert session._click_segmenter.state is state
    assert [(c.x, c.y, c.positive) for c in state.clicks] == [(240, 160, True), (210, 130, False), (260, 180, True)]
    assert len(state.probs) == 4  # the box's mask, then one per click


def test_clicks_correct_a_given_mask_starting_from_it(session, small_clip):
    mask = only(small_clip.labels[0], 2)
    session.add_mask(0, mask)
    session.add_clicks(0, 2, [(240, 160, True)])
    state = session._click_segmenter.state
    assert np.array_equal(state.probs[0] > 0.5, mask == 2)  # the click corrects the user's mask
    assert len(state.clicks) == 1


def test_clicks_correct_a_propagated_mask_and_change_only_that_object(session, small_clip):
    session.add_mask(0, small_clip.labels[0])
    list(session.propagate())
    before = session.result(6)
    assert set(np.unique(before)) == {0, 1, 2, 3}
    after = session.add_clicks(6, 2, [(260, 150, False)])
    state = session._click_segmenter.state
    assert np.array_equal(state.probs[0] > 0.5, before == 2)
    assert np.array_equal(after == 2, state.probs[-1] > 0.5)
    assert unchanged_outside(before, after, 2)
    assert np.array_equal(session.result(6), before)  # results change only when a pass goes through


def test_corrected_object_takes_pixels_from_others(small_clip):
    with open_session(small_clip, constant_net(10.0)) as s:
        s.add_mask(0, small_clip.labels[0])
        after = s.add_box(0, 3, (150, 100, 212, 175))
    before = small_clip.labels[0]
    taken = (after == 3) & (before != 3) & (before != 0)
    assert taken.any()  # objects 1 and 2 overlap object 3's crop window
    assert unchanged_outside(before, after, 3)
    assert {1, 2} <= set(np.unique(after))


def test_an_empty_correction_removes_the_object_from_that_frame(small_clip):
    with open_session(small_clip, constant_net(-10.0)) as s:
        s.add_mask(0, small_clip.labels[0])
        labels = s.add_box(0, 1, (189, 107, 289, 202))
        assert not (labels == 1).any() and {2, 3} <= set(np.unique(labels))
        first = dict(s.propagate())
    assert not (first[0] == 1).any()
    assert 1 in s.state.objects  # still an object of the session, absent here


def test_a_changed_mask_is_not_undone_by_continuing_an_old_selection(session, small_clip):
    session.add_box(0, 1, (180, 100, 290, 210))
    old = session._click_segmenter.state
    session.add_mask(0, only(small_clip.labels[0], 1))  # the user replaces the object's mask
    session.add_clicks(0, 1, [(240, 160, True)])
    state = session._click_segmenter.state
    assert state is not old
    assert np.array_equal(state.probs[0] > 0.5, small_clip.labels[0] == 1)


# --- propagation after corrections -------------------------------------------------------------


def test_propagation_restarts_from_the_corrected_frame_and_updates_later_frames(session, small_clip):
    session.add_mask(0, small_clip.labels[0])
    first = dict(session.propagate())
    assert sorted(first) == list(range(12))
    assert all(np.array_equal(session.result(i), first[i]) for i in range(12))
    corrected = session.add_clicks(6, 2, [(260, 150, False), (240, 170, True)])
    second = dict(session.propagate())
    assert sorted(second) == list(range(6, 12))
    assert np.array_equal(second[6], corrected)  # the pass carries every object from frame 6
    assert all(np.array_equal(session.result(i), first[i]) for i in range(6))
    assert all(np.array_equal(session.result(i), second[i]) for i in range(6, 12))


def test_backward_propagation_from_the_corrected_frame(session, small_clip):
    session.add_mask(0, small_clip.labels[0])
    list(session.propagate())
    corrected = session.add_box(8, 3, (140, 115, 215, 185))
    back = list(session.propagate(reverse=True))
    assert [i for i, _ in back] == list(range(8, -1, -1))
    assert np.array_equal(back[0][1], corrected)
    # Frame 0 holds a user's mask: the pass ends on it, exactly.
    assert np.array_equal(back[-1][1], small_clip.labels[0])


def test_a_pass_starts_at_the_first_changed_frame_in_its_direction(session, small_clip):
    session.add_mask(0, small_clip.labels[0])
    list(session.propagate())
    session.add_clicks(9, 1, [(240, 160, True)])
    session.add_clicks(4, 2, [(250, 150, False)])
    assert [i for i, _ in session.propagate()][0] == 4  # and frame 9's correction is met on the way
    assert [i for i, _ in session.propagate()][0] == 0  # nothing changed since: from the first prompt


def test_unprompted_frames_before_the_start_show_their_stored_results(session, small_clip):
    session.add_mask(0, small_clip.labels[0])
    first = dict(session.propagate())
    session.add_box(5, 1, (200, 120, 290, 210))
    frames = list(session.propagate_frames(include_unprompted=True))
    assert [i for i, _, _ in frames] == list(range(12))
    assert all(np.array_equal(labels, first[i]) for i, _, labels in frames[:5])


def test_start_may_be_any_segmented_frame(session, small_clip):
    session.add_mask(0, small_clip.labels[0])
    first = dict(session.propagate())
    again = dict(session.propagate(start=7))
    assert sorted(again) == list(range(7, 12)) and np.array_equal(again[7], first[7])


# --- results memory ----------------------------------------------------------------------------


def test_results_are_stored_compressed(session, small_clip):
    session.add_mask(0, small_clip.labels[0])
    list(session.propagate())
    store = session.state.results
    assert len(store) == 12 and store.nbytes < 12 * 240 * 428 / 10


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("frame", [12, -1])
def test_box_or_clicks_beyond_the_video_are_refused(session, frame):
    with pytest.raises(InputError, match="frames 0..11"):
        session.add_box(frame, 1, (10, 10, 50, 50))
    with pytest.raises(InputError, match="frames 0..11"):
        session.add_clicks(frame, 1, [(10, 10, True)])
    with pytest.raises(InputError, match="frames 0..11"):
        session.result(frame)


@pytest.mark.parametrize("box, words", [((500, 10, 600, 50), "outside the 428x240 image"),
                                        ((10, 10, 10, 50), "zero area"),
                                        ((10, 10, 50), "four numbers")])
def test_bad_boxes_are_refused(session, box, words):
    with pytest.raises(InputError, match=words):
        session.add_box(0, 1, box)
    assert not session.state.prompts


@pytest.mark.parametrize("clicks, words", [([(428, 10, True)], "outside the 428x240 image"),
                                           ([(10, -1, True)], "outside"),
                                           ([], "at least one"),
                                           ([(10, 10)], "not \\(x, y, positive\\)"),
                                           ([("a", 10, True)], "not \\(x, y, positive\\)"),
                                           ([(10, 10, "False")], "positive must be True"),
                                           ((10, 10, True), "not \\(x, y, positive\\)")])
def test_bad_clicks_are_refused(session, clicks, words):
    with pytest.raises(InputError, match=words):
        session.add_clicks(0, 1, clicks)
    assert not session.state.prompts


@pytest.mark.parametrize("obj_id", [0, 256, -3, 1.5, True, "1", None])
def test_object_ids_must_be_integers_1_to_255(session, obj_id):
    with pytest.raises(InputError, match="1..255"):
        session.add_box(0, obj_id, (10, 10, 50, 50))
    with pytest.raises(InputError, match="1..255"):
        session.add_clicks(0, obj_id, [(20, 20, True)])


def test_a_new_object_needs_a_positive_first_click(small_clip, tmp_path):
    # A missing model would fail too, later: the click is checked before any model is loaded.
    with vidseg.VideoSegmenter(model="flow", interactive_model=tmp_path / "none.pt").open(small_clip.frames) as s:
        with pytest.raises(InputError, match="first click must be positive"):
            s.add_clicks(0, 1, [(20, 20, False), (30, 30, True)])


def test_missing_default_weights_say_what_to_do(small_clip, no_shipped_weights):
    with vidseg.VideoSegmenter(model="flow").open(small_clip.frames) as s:
        with pytest.raises(InputError, match="shipped interactive weights .* are missing"):
            s.add_box(0, 1, (10, 10, 50, 50))


def test_a_session_given_only_masks_never_loads_torch_for_clicks(session, small_clip):
    session.add_mask(0, small_clip.labels[0])
    list(session.propagate())
    assert session._click_segmenter is None


def test_click_segmenter_is_public_and_import_stays_cheap():
    import subprocess
    import sys

    code = "import sys, vidseg; vidseg.VideoSegmenter; assert 'torch' not in sys.modules; vidseg.ClickSegmenter"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert vidseg.ClickSegmenter is click_segmenter.ClickSegmenter
