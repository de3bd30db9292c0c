import numpy as np
import pytest

from vidseg.data.tracking_footage import FootageConfig, Sprite, render_footage
from vidseg.errors import InputError

SMALL = dict(height=96, width=128, num_frames=8, target_side=(12, 20), speed=(4.0, 8.0))


def _sprite(colour=(220, 40, 40)):
    image = np.zeros((40, 30, 3), np.uint8)
    image[...] = colour
    mask = np.zeros((40, 30), np.uint8)
    mask[5:35, 5:25] = 1
    return Sprite.cut(image, mask)


def _background():
    """Grey texture: nothing in it is as red as the target."""
    grey = np.random.default_rng(3).integers(40, 200, (60, 80, 1), dtype=np.uint8)
    return np.repeat(grey, 3, axis=2)


def test_footage_is_deterministic_and_labels_a_small_target_that_moves():
    config = FootageConfig(**SMALL, lookalikes=0, seed=4)
    a = render_footage(_sprite(), _background(), config)
    b = render_footage(_sprite(), _background(), config)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.labels, b.labels)
    assert a.frames.shape == (8, 96, 128, 3) and a.labels.shape == (8, 96, 128)
    assert set(np.unique(a.labels)) <= {0, 1} and a.labels[0].any()
    ys, xs = np.nonzero(a.labels[0])
    # The longer side is at most 20 px, grown by 15% at most and turned: within its diagonal.
    assert max(np.ptp(ys), np.ptp(xs)) + 1 <= 20 * 1.15 * 1.25 + 2
    centres = [np.argwhere(l).mean(axis=0) for l in a.labels if l.any()]
    assert np.linalg.norm(centres[-1] - centres[0]) > 4  # it moved
    # The labelled pixels show the target's red; without look-alikes nothing else is that red.
    red = (a.frames[..., 0] > 150) & (a.frames[..., 1] < 100)
    assert red[a.labels > 0].mean() > 0.8 and (red & (a.labels == 0)).sum() < 0.5 * (a.labels > 0).sum()


def test_lookalikes_are_drawn_but_not_labelled():
    alone = render_footage(_sprite(), _background(), FootageConfig(**SMALL, lookalikes=0, seed=4))
    crowded = render_footage(_sprite(), _background(), FootageConfig(**SMALL, lookalikes=3, seed=4),
                             [_sprite((40, 40, 220))])
    changed = np.abs(crowded.frames.astype(int) - alone.frames.astype(int)).sum(axis=-1) > 60
    assert (changed & (crowded.labels == 0)).sum() > 100  # the others are in the picture
    assert crowded.labels.max() == 1


def test_a_sprite_in_front_hides_the_target():
    # With many look-alikes moving near a large target, some frame shows less of it than its size.
    config = FootageConfig(height=64, width=64, num_frames=12, target_side=(24, 28), speed=(6.0, 10.0),
                           lookalikes=6, seed=2)
    clip = render_footage(_sprite(), _background(), config)
    areas = clip.labels.reshape(12, -1).sum(axis=1)
    unoccluded = render_footage(_sprite(), _background(), FootageConfig(**{**config.__dict__, "lookalikes": 0}))
    assert (areas < unoccluded.labels.reshape(12, -1).sum(axis=1)).any()


@pytest.mark.parametrize("fields", [dict(height=32), dict(num_frames=1), dict(target_side=(2, 8)),
                                    dict(target_side=(40, 20)), dict(speed=(0.0, 1.0)), dict(lookalikes=-1)])
def test_bad_footage_settings_are_one_line(fields):
    with pytest.raises(InputError):
        FootageConfig(**{**SMALL, **fields})


def test_a_sprite_needs_a_mask():
    with pytest.raises(InputError, match="16 pixels"):
        Sprite.cut(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10), np.uint8))
