"""The network method inside a session, with a tiny untrained network (behaviour, not quality)."""

import numpy as np
import pytest

import vidseg
from vidseg.errors import InputError
from vidseg.nn.checkpoint import save_checkpoint
from vidseg.nn.propagation import PropagationNet, PropagationNetConfig

TINY = PropagationNetConfig(widths=(8, 8, 16, 16), key_dim=8, decoder_width=8, refine_width=4)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, "propagation", PropagationNet(TINY))
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
    seg = vidseg.VideoSegmenter(model=str(tiny_checkpoint), adapt=True)
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
            stored.append(len(session.propagator._entries))
    assert max(stored) <= session.propagator.policy.max_stored + 1


def test_a_checkpoint_of_another_kind_is_refused(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a vidseg checkpoint|truncated"):
        vidseg.VideoSegmenter(model=str(tmp_path / "junk.pt"))


def test_unknown_preset_is_refused(tiny_checkpoint):
    with pytest.raises(InputError, match="fast"):
        vidseg.VideoSegmenter(model=str(tiny_checkpoint), preset="turbo")
