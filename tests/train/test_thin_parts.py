"""Thin bars across the object (taken out of its mask) and strands out of it (added to it)."""

import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.train.thin_parts import ThinPartsConfig, add_thin_parts, draw_bar, draw_strand


def blob() -> tuple[np.ndarray, np.ndarray]:
    image = np.full((120, 160, 3), 200, np.uint8)
    mask = np.zeros((120, 160), np.uint8)
    mask[40:80, 50:110] = 1
    image[mask > 0] = (30, 60, 90)
    return image, mask


def test_a_bar_crosses_the_object_and_leaves_its_mask():
    image, mask = blob()
    fill = np.zeros_like(image)
    for seed in range(10):
        img, m = image.copy(), mask.copy()
        draw_bar(np.random.default_rng(seed), img, m, fill)
        painted = np.any(img != image, axis=2)
        lost = (mask > 0) & (m == 0)
        assert lost.any() and m.sum() < mask.sum()
        assert not ((m == 0) & (mask > 0) & ~painted).any()  # only painted pixels leave the mask
        assert painted[mask == 0].any()  # it runs on past the object
        assert (m <= mask).all()


def test_a_strand_leaves_the_outline_and_joins_the_mask():
    image, mask = blob()
    for seed in range(10):
        img, m = image.copy(), mask.copy()
        draw_strand(np.random.default_rng(seed), img, m)
        gained = (m > 0) & (mask == 0)
        assert gained.any() and (m >= mask).all()
        assert (np.any(img != image, axis=2) | (m == mask))[gained].all()  # gained pixels are painted
        # Thin: far fewer pixels than the object, and outside its box (the strand leaves it).
        assert gained.sum() < mask.sum() / 2


def test_shares_of_zero_draw_nothing_and_return_the_arrays_untouched():
    image, mask = blob()
    rng = np.random.default_rng(0)
    out_image, out_mask = add_thin_parts(rng, image, mask, image, ThinPartsConfig())
    assert np.array_equal(out_image, image) and np.array_equal(out_mask, mask)
    assert rng.random() == np.random.default_rng(0).random()  # no draw taken


def test_both_kinds_are_drawn_at_share_one_and_inputs_are_not_changed():
    image, mask = blob()
    before = image.copy(), mask.copy()
    out_image, out_mask = add_thin_parts(np.random.default_rng(3), image, mask, image[::-1].copy(),
                                         ThinPartsConfig(bar_share=1, strand_share=1))
    assert ((out_mask > 0) & (mask == 0)).any() and ((out_mask == 0) & (mask > 0)).any()
    assert np.array_equal(image, before[0]) and np.array_equal(mask, before[1])


def test_thin_part_settings_are_checked():
    for bad in ({"bar_share": 1.5}, {"strand_share": -0.1}, {"most": 0}):
        with pytest.raises(InputError, match="thin parts need"):
            ThinPartsConfig(**bad)
