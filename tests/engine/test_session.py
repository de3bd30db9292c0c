import numpy as np
import pytest

import vidseg
from vidseg.errors import InputError


@pytest.fixture
def session(small_clip):
    with vidseg.VideoSegmenter(model="flow").open(small_clip.frames) as s:
        yield s


def only(labels, obj_id):
    return np.where(labels == obj_id, obj_id, 0).astype(np.uint8)


def test_objects_start_on_the_frame_of_their_mask(session, small_clip):
    session.add_mask(0, only(small_clip.labels[0], 1))
    session.add_mask(4, only(small_clip.labels[4], 2))
    seen = {i: set(np.unique(lab)) - {0} for i, lab in session.propagate()}
    assert sorted(seen) == list(range(12))
    assert all(seen[i] == {1} for i in range(4))
    assert seen[4] == {1, 2}


def test_prompted_frame_is_returned_exactly(session, small_clip):
    session.add_mask(0, small_clip.labels[0])
    index, labels = next(session.propagate())
    assert index == 0 and np.array_equal(labels, small_clip.labels[0])


def test_reverse_propagation_walks_back_to_frame_zero(session, small_clip):
    session.add_mask(11, small_clip.labels[11])
    order = [i for i, _ in session.propagate(reverse=True)]
    assert order == list(range(11, -1, -1))


def test_include_unprompted_yields_empty_maps_before_the_first_mask(session, small_clip):
    session.add_mask(3, small_clip.labels[3])
    frames = list(session.propagate_frames(include_unprompted=True))
    assert [i for i, _, _ in frames] == list(range(12))
    assert all(not lab.any() for _, _, lab in frames[:3]) and frames[3][2].any()


def test_second_mask_on_a_frame_adds_objects_without_erasing_others(session, small_clip):
    session.add_mask(0, only(small_clip.labels[0], 1))
    session.add_mask(0, only(small_clip.labels[0], 2))
    _, labels = next(session.propagate())
    assert set(np.unique(labels)) == {0, 1, 2}


@pytest.mark.parametrize("frame", [12, -1])
def test_mask_beyond_the_video_is_refused(session, small_clip, frame):
    with pytest.raises(InputError, match="frames 0..11"):
        session.add_mask(frame, small_clip.labels[0])


def test_empty_mask_is_refused(session):
    with pytest.raises(InputError, match="no object"):
        session.add_mask(0, np.zeros((240, 428), dtype=np.uint8))


def test_propagate_needs_a_mask_and_a_prompted_start(session, small_clip):
    with pytest.raises(InputError, match="add a mask"):
        next(session.propagate())
    session.add_mask(2, small_clip.labels[2])
    with pytest.raises(InputError, match="no mask on start frame 5"):
        next(session.propagate(start=5))


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(InputError, match="flow"):
        vidseg.VideoSegmenter(model="sam9")


def test_a_snapshot_restored_into_a_fresh_session_gives_the_same_labels_and_next_pass(small_clip):
    seg = vidseg.VideoSegmenter(model="flow")
    with seg.open(small_clip.frames) as first:
        first.add_mask(0, only(small_clip.labels[0], 2))
        list(first.propagate())
        first.add_mask(5, only(small_clip.labels[5], 1))
        held = first.snapshot()
        first.add_mask(7, only(small_clip.labels[7], 3))  # later edits do not change the snapshot
        assert held.objects == (2,) and set(held.prompts) == {0, 5} and held.pending == {5}
        assert held.computed == frozenset(range(12))
        with seg.open(small_clip.frames) as second:
            second.restore(held, first.result)
            assert second.snapshot() == held
            assert all(np.array_equal(second.labels(i), first.labels(i)) for i in range(7))
            assert second.prompt(5).objects == {1} and second.prompt(3) is None
            assert [i for i, _ in second.propagate()][0] == 5  # the pending frame starts the next pass


def test_restore_refuses_a_used_session_and_frames_outside_the_video(session, small_clip):
    from vidseg.engine.session import Prompt, SessionSnapshot

    outside = SessionSnapshot(objects=(1,), prompts={12: Prompt(small_clip.labels[0], frozenset({1}))})
    with vidseg.VideoSegmenter(model="flow").open(small_clip.frames) as fresh:
        with pytest.raises(InputError, match="frame 12"):
            fresh.restore(outside, lambda frame: small_clip.labels[frame])
    session.add_mask(0, small_clip.labels[0])
    with pytest.raises(InputError, match="freshly opened"):
        session.restore(SessionSnapshot(), lambda frame: small_clip.labels[frame])


def test_set_prompt_puts_back_or_removes_a_frames_prompt(session, small_clip):
    from vidseg.engine.session import Prompt

    session.add_mask(2, only(small_clip.labels[2], 1))
    before = session.prompt(2)
    session.add_mask(2, only(small_clip.labels[2], 2))
    session.set_prompt(2, before)  # undo the second mask
    assert session.prompt(2).objects == {1} and np.array_equal(session.labels(2), only(small_clip.labels[2], 1))
    session.set_prompt(2, None)
    assert session.prompt(2) is None and not session.snapshot().pending and not session.labels(2).any()
    session.set_prompt(5, Prompt(only(small_clip.labels[5], 3), frozenset({3})))
    assert session.snapshot().pending == {5} and 3 in session.snapshot().objects


def test_remove_object_clears_it_from_prompts_and_results(session, small_clip):
    session.add_mask(0, only(small_clip.labels[0], 1))
    session.add_mask(0, only(small_clip.labels[0], 2))
    session.add_mask(4, only(small_clip.labels[4], 2))
    list(session.propagate())
    changed = session.remove_object(2)
    assert changed and all(not (session.labels(i) == 2).any() for i in range(12))
    assert session.prompt(4) is None and session.prompt(0).objects == {1}
    assert session.snapshot().objects == (1,)
    assert all(set(np.unique(lab)) <= {0, 1} for _, lab in session.propagate(start=0))
    with pytest.raises(InputError, match="not in this video"):
        session.remove_object(2)
