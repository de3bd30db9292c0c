"""Selections a user can make by mistake or on odd images (issue 17, "Bad input"): each gives a
mask of the image's size, or a one-line error, never a crash."""

import numpy as np
import pytest

from vidseg.engine.interactive.click_segmenter import ClickSegmenter
from vidseg.errors import InputError
from vidseg.nn.registry import create_model


@pytest.fixture(scope="module")
def segmenter() -> ClickSegmenter:
    return ClickSegmenter(model=create_model("interactive").eval())


def noise(h: int, w: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("h, w", [(64, 64), (3000, 4000)])
def test_tiny_and_huge_images_give_masks_of_their_size(segmenter, h, w):
    mask = segmenter.start(noise(h, w), box=(w // 4, h // 4, 3 * w // 4, 3 * h // 4))
    assert mask.shape == (h, w) and mask.dtype == bool
    assert segmenter.click(w // 2, h // 2).shape == (h, w)


def test_a_box_beyond_the_image_is_clipped_to_it(segmenter):
    image = noise(120, 160)
    inside = segmenter.start(image, box=(0, 0, 160, 120))
    beyond = segmenter.start(image, box=(-50, -40, 210, 170))
    assert beyond.shape == (120, 160) and np.array_equal(beyond, inside)


def test_twenty_clicks_on_one_spot_keep_a_mask_and_undo_walks_back(segmenter):
    image = noise(96, 128)
    first = segmenter.start(image, box=(30, 20, 100, 80)).copy()
    for _ in range(20):
        mask = segmenter.click(64, 48, positive=True)
    assert mask.shape == (96, 128) and len(segmenter.state.clicks) == 20
    for _ in range(20):
        segmenter.undo()
    assert np.array_equal(segmenter.mask, first)
    with pytest.raises(InputError, match="nothing to undo"):
        segmenter.undo()


def test_a_click_on_a_pixel_already_of_its_label_is_taken(segmenter):
    image = noise(96, 128)
    mask = segmenter.start(image, box=(30, 20, 100, 80))
    ys, xs = np.nonzero(mask) if mask.any() else np.nonzero(~mask)
    positive = bool(mask.any())
    after = segmenter.click(int(xs[0]), int(ys[0]), positive=positive)
    assert after.shape == mask.shape and len(segmenter.state.clicks) == 1
