"""The network method inside a session, with a tiny untrained network (behaviour, not quality)."""

from dataclasses import replace

import numpy as np
import pytest

import vidseg
from vidseg.errors import InputError
from vidseg.nn.propagation import PropagationNetConfig
from vidseg.nn.registry import create_model, save_model

TINY = PropagationNetConfig(widths=(8, 8, 16, 16), key_dim=8, decoder_width=8, refine_width=4)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_model(path, "vos", create_model("vos", TINY))
    return path


@pytest.mark.parametrize("adapt,fusion", [(True, True), (False, False), (True, False), (False, True)])
def test_every_switch_combination_segments_every_frame(tiny_checkpoint, small_clip, adapt, fusion):
    seg = vidseg.VideoSegmenter(model=str(tiny_checkpoint), adapt=adapt, fusion=fusion)
    with seg.open(small_clip.frames[:6]) as session:
        session.add_mask(0, small_clip.labels[0])
        out = list(session.propagate())
    assert [i for i, _ in out] == list(range(6))
    assert np.array_equal(out[0][1], small_clip.labels[0])
    assert all(lab.shape == small_clip.labels[0].shape and lab.dtype == np.uint8 for _, lab in out)


def test_adaptation_changes_only_the_session_copy_of_the_head(tiny_checkpoint, small_clip):
    seg = vidseg.VideoSegmenter(model=str(tiny_checkpoint), adapt=True, backend="torch")  # torch's parameters
    with seg.open(small_clip.frames[:3]) as session:
        shared = [p.detach().clone() for p in session.propagator.model.parameters()]
        session.add_mask(0, small_clip.labels[0])
        list(session.propagate())
        head = session.propagator.adapter.head
        original = session.propagator.model.decoder.refine
        assert any(not np.allclose(a.detach(), b.detach()) for a, b in zip(head.parameters(), original.parameters()))
        assert all(np.array_equal(a, b.detach()) for a, b in zip(shared, session.propagator.model.parameters()))


def test_memory_stays_bounded_on_a_long_clip(tiny_checkpoint):
    frames = np.random.default_rng(0).integers(0, 255, (80, 64, 96, 3), dtype=np.uint8)
    mask = np.zeros((64, 96), np.uint8)
    mask[20:40, 30:60] = 1
    seg = vidseg.VideoSegmenter(model=str(tiny_checkpoint), adapt=False, fusion=False)
    with seg.open(frames) as session:
        session.add_mask(0, mask)
        stored = []
        for _ in session.propagate():
            stored.append(len(session.propagator.memory))
    assert max(stored) <= session.propagator.policy.max_stored + 1


def test_a_checkpoint_of_another_kind_is_refused(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a vidseg checkpoint|truncated"):
        vidseg.VideoSegmenter(model=str(tmp_path / "junk.pt"))


def test_unknown_preset_is_refused(tiny_checkpoint):
    with pytest.raises(InputError, match="fast"):
        vidseg.VideoSegmenter(model=str(tiny_checkpoint), preset="turbo")


@pytest.fixture(scope="module")
def tiny_tracker(tmp_path_factory):
    from tests.engine.track.test_polar_tracker import CONFIG

    path = tmp_path_factory.mktemp("ckpt") / "tracker.pt"
    save_model(path, "tracker", create_model("tracker", CONFIG))
    return path


def test_refind_runs_in_a_session_and_watches_every_prompted_object(tiny_checkpoint, tiny_tracker, small_clip):
    from vidseg.engine.vos.presets import PRESETS, with_switches
    from vidseg.engine.vos.redetect import RedetectConfig

    config = replace(PRESETS["fast"], refind=RedetectConfig(tracker=str(tiny_tracker)))
    seg = vidseg.VideoSegmenter(model=str(tiny_checkpoint), config=config)
    with seg.open(small_clip.frames[:5]) as session:
        session.add_mask(0, small_clip.labels[0])
        out = list(session.propagate())
        redetector = session.propagator.redetector
        assert [i for i, _ in out] == list(range(5))
        assert sorted(redetector._watches) == [1, 2, 3]
        assert session.lost_objects() == set()
        redetector._watches[2].lost = True  # as re-finding would mark a hidden object
        assert session.lost_objects() == {session.state.objects.ids[1]}
    assert with_switches(config, refind=False).refind is None
    assert with_switches(PRESETS["fast"], refind=True).refind == RedetectConfig()


def test_presence_is_high_for_the_object_on_its_own_frame_and_low_for_the_rest(tiny_checkpoint, small_clip):
    import torch

    seg = vidseg.VideoSegmenter(model=str(tiny_checkpoint), fusion=False)
    with seg.open(small_clip.frames[:2]) as session:
        session.add_mask(0, small_clip.labels[0])
        list(session.propagate())
        propagator = session.propagator
        with torch.no_grad():
            key = propagator.model.encode(propagator._to_tensor(small_clip.frames[0])).key
            from vidseg.engine.vos.memory_bank import resize_probs
            from vidseg.engine.vos.redetect_memory import appearance_refs, read_presence

            def presence(key, slot, mask):  # re-finding is off here: no reference is too small
                refs = appearance_refs(propagator.memory, [], slot - 1, least=0)
                return read_presence(key, refs, mask, propagator.model.log_temperature)

            # The query is the prompted frame itself, which is the presence reference.
            obj = (small_clip.labels[0] == 1).astype(np.float32)
            inside, outside = presence(key, 1, obj), presence(key, 1, 1 - obj)
            assert 0 <= outside < inside <= 1
            assert presence(key, 1, np.zeros_like(obj)) == 0.0
            # Reading out only (a sample of) the masked positions gives the weighted mean of the whole readout.
            from vidseg.nn.propagation import match_references

            (first,) = appearance_refs(propagator.memory, [], 0, least=0)  # two frames: only the first is a reference
            full = match_references(key, *first, propagator.model.log_temperature)[0, 0, 0]
            weights = resize_probs(obj[None], tuple(full.shape))[0]
            assert inside == pytest.approx(float((full * weights).sum() / weights.sum()), abs=0.03)


def test_refind_with_a_baseline_is_refused():
    with pytest.raises(InputError, match="network method"):
        vidseg.VideoSegmenter(model="flow", refind=True)


def test_a_lost_object_is_cleared_for_the_user_but_remembered_as_the_network_saw_it(tiny_checkpoint, tiny_tracker):
    from vidseg.engine.vos.network_propagator import NetworkPropagator
    from vidseg.engine.vos.presets import PRESETS
    from vidseg.engine.vos.redetect import RedetectConfig, _Watch
    from vidseg.nn.registry import load_model

    model = load_model("vos", tiny_checkpoint)
    propagator = NetworkPropagator(model, replace(PRESETS["fast"], refind=RedetectConfig(tracker=str(tiny_tracker))))
    own = np.zeros((3, 4, 4), np.float32)
    own[0], own[1, :2], own[2, 2:] = 0.2, 0.8, 0.8  # background 0.2 everywhere; object 1 top, 2 bottom
    cleared = own.copy()
    cleared[1], cleared[0, :2] = 0.0, 1.0  # object 1 lost: cleared in the result
    propagator.redetector._watches = {1: _Watch(tracker=None, lost=True), 2: _Watch(tracker=None)}
    propagator.refind.own = own
    kept = propagator.refind.probs_to_remember(cleared, prompted=False)
    assert np.allclose(kept[1], own[1]) and np.allclose(kept[2], own[2]) and np.allclose(kept.sum(0), 1.0)
    propagator.refind.own = own
    assert propagator.refind.probs_to_remember(cleared, prompted=True) is cleared  # a user's mask is kept as given
    assert propagator.refind.own is None


def test_a_reference_where_the_object_is_tiny_is_not_used(tiny_checkpoint, tiny_tracker, small_clip):
    from vidseg.engine.vos.presets import PRESETS
    from vidseg.engine.vos.redetect import RedetectConfig

    mask = np.zeros_like(small_clip.labels[0])
    mask[100:116, 200:216] = 1  # 16x16 px: 4 key cells at 224 px internal height
    for least, usable in [(1, True), (32, False)]:
        config = replace(PRESETS["fast"], refind=RedetectConfig(tracker=str(tiny_tracker), min_reference_cells=least))
        with vidseg.VideoSegmenter(model=str(tiny_checkpoint), config=config).open(small_clip.frames[:3]) as session:
            session.add_mask(0, mask)
            list(session.propagate())
            assert (session.propagator.refind.appearance_refs(session.propagator.memory, 0) is not None) == usable


def test_sessions_run_on_the_networks_their_segmenter_loaded(tiny_checkpoint, tiny_tracker, small_clip, monkeypatch):
    from vidseg.engine.vos.presets import PRESETS
    from vidseg.engine.vos.redetect import RedetectConfig
    from vidseg.nn import registry

    loads = []
    real = registry.load_model
    monkeypatch.setattr(registry, "load_model", lambda name, *a, **k: loads.append(name) or real(name, *a, **k))
    config = replace(PRESETS["fast"], refind=RedetectConfig(tracker=str(tiny_tracker)))
    seg = vidseg.VideoSegmenter(model=str(tiny_checkpoint), config=config)
    assert sorted(loads) == ["tracker", "vos"]  # loaded by the segmenter, before any session
    for _ in range(2):
        with seg.open(small_clip.frames[:2]) as session:
            assert session.propagator.model is seg.propagation_net
            assert session.propagator.redetector._net is seg.tracker_net
    assert sorted(loads) == ["tracker", "vos"]


@pytest.mark.parametrize("size", [(1, 1), (10, 12), (15, 300), (300, 9)])
def test_frames_smaller_than_the_lite_encoders_stride_still_segment(tmp_path, size):
    """The Lite encoder ends at stride 16: smaller frames are enlarged to its minimum input."""
    lite = PropagationNetConfig(encoder="lite0", widths=(16, 24, 16, 112), key_dim=8, decoder_width=8, refine_width=4)
    path = tmp_path / "lite.pt"
    save_model(path, "vos", create_model("vos", lite))
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (3, *size, 3), dtype=np.uint8)
    first = np.zeros(size, np.uint8)
    first[: max(1, size[0] // 2), : max(1, size[1] // 2)] = 1
    with vidseg.VideoSegmenter(model=str(path)).open(frames) as session:
        session.add_mask(0, first)
        out = list(session.propagate())
    assert [i for i, _ in out] == [0, 1, 2] and all(mask.shape == size for _, mask in out)


def test_mirroring_makes_the_result_of_a_mirrored_clip_the_mirrored_result(tiny_checkpoint, small_clip):
    """With ``mirror`` each frame is segmented as it is and mirrored, each against its own memory,
    and the two averaged: so a clip mirrored left to right must get the same masks mirrored
    (flow is off: it is not symmetric)."""
    from vidseg.engine.vos.presets import PRESETS

    config = replace(PRESETS["fast"], mirror=True, fusion=None)
    seg = vidseg.VideoSegmenter(model=str(tiny_checkpoint), config=config)

    def run(frames, first):
        with seg.open(frames) as session:
            session.add_mask(0, first)
            return np.stack([labels for _, labels in session.propagate()])

    frames, first = small_clip.frames[:5], small_clip.labels[0]
    plain = run(frames, first)
    flipped = run(np.ascontiguousarray(frames[:, :, ::-1]), np.ascontiguousarray(first[:, ::-1]))
    assert np.mean(plain == flipped[:, :, ::-1]) > 0.999


def test_refind_searches_the_frames_the_session_decoded(tiny_checkpoint, tiny_tracker, small_clip, monkeypatch):
    """The tracker takes the session's decoded frame as it is (no second decode or copy)."""
    from vidseg.engine.track.polar_tracker import PolarTracker
    from vidseg.engine.vos.network_propagator import NetworkPropagator
    from vidseg.engine.vos.presets import PRESETS
    from vidseg.engine.vos.redetect import RedetectConfig

    decoded, searched = [], []  # the arrays themselves, so no id is reused
    predict, search_frame = NetworkPropagator.predict, PolarTracker.search_frame
    monkeypatch.setattr(NetworkPropagator, "predict", lambda self, frame: decoded.append(frame) or predict(self, frame))
    monkeypatch.setattr(PolarTracker, "search_frame",
                        lambda self, frame, count=1: searched.append(frame) or search_frame(self, frame, count))
    config = replace(PRESETS["fast"], refind=RedetectConfig(tracker=str(tiny_tracker)))
    with vidseg.VideoSegmenter(model=str(tiny_checkpoint), config=config).open(small_clip.frames[:5]) as session:
        session.add_mask(0, small_clip.labels[0])
        for index, _ in session.propagate():
            if index == 1:
                session.propagator.redetector._watches[1].lost = True  # as a hidden object would be
    assert searched and all(any(s is d for d in decoded) for s in searched)
