from __future__ import annotations

import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.eval.grabcut import GrabCutSegmenter
from vidseg.eval.metrics import region_iou

H, W = 90, 120


def scene(squares: list[tuple[int, int, int, int]], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 RGB: noisy red squares (x0, y0, x1, y1) on a noisy green-blue background; and
    the (H, W) bool mask of the first square."""
    rng = np.random.default_rng(seed)
    image = np.empty((H, W, 3), np.float64)
    image[:] = (40, 150, 110)
    for x0, y0, x1, y1 in squares:
        image[y0:y1, x0:x1] = (210, 40, 40)
    image += rng.normal(0, 12, image.shape)
    gt = np.zeros((H, W), bool)
    x0, y0, x1, y1 = squares[0]
    gt[y0:y1, x0:x1] = True
    return np.clip(image, 0, 255).astype(np.uint8), gt


def test_box_alone_finds_the_square():
    image, gt = scene([(40, 30, 80, 60)])
    mask = GrabCutSegmenter().start(image, box=(34, 25, 86, 66))
    assert mask.shape == (H, W) and mask.dtype == bool
    assert region_iou(mask, gt) > 0.8


def test_negative_click_removes_a_wrongly_included_blob():
    # A small red blob inside the box, apart from the object: same colour, so GrabCut takes it.
    image, gt = scene([(40, 30, 80, 60), (84, 62, 92, 70)])
    blob = np.zeros((H, W), bool)
    blob[62:70, 84:92] = True
    segmenter = GrabCutSegmenter()
    mask = segmenter.start(image, box=(34, 25, 94, 72))
    assert np.count_nonzero(mask & blob) > 0.9 * blob.sum()
    mask = segmenter.click(88, 66, positive=False)
    assert np.count_nonzero(mask & blob) < 0.1 * blob.sum()
    assert region_iou(mask, gt) > 0.8


def test_positive_click_beyond_the_roi_grows_it():
    image, gt = scene([(20, 20, 50, 50), (90, 60, 110, 80)])
    segmenter = GrabCutSegmenter()
    mask = segmenter.start(image, box=(15, 15, 55, 55))  # ROI reaches x < 65, y < 65
    far = np.zeros((H, W), bool)
    far[60:80, 90:110] = True
    assert not (mask & far).any()
    mask = segmenter.click(100, 70, positive=True)
    assert np.count_nonzero(mask & far) > 0.8 * far.sum()


def test_deterministic():
    image, _ = scene([(40, 30, 80, 60)], seed=1)
    first = GrabCutSegmenter().start(image, box=(30, 20, 90, 70))
    again = GrabCutSegmenter().start(image, box=(30, 20, 90, 70))
    assert np.array_equal(first, again)


def test_box_over_the_whole_image_gives_the_box():
    image, _ = scene([(40, 30, 80, 60)])
    assert GrabCutSegmenter().start(image, box=(0, 0, W, H)).all()


@pytest.mark.parametrize("box", [(10, 10, 10, 40), (200, 10, 240, 40), (50, 50, 40, 60)])
def test_bad_box_is_an_input_error(box):
    image, _ = scene([(40, 30, 80, 60)])
    with pytest.raises(InputError):
        GrabCutSegmenter().start(image, box=box)


def test_bad_click_and_click_before_start_are_input_errors():
    image, _ = scene([(40, 30, 80, 60)])
    segmenter = GrabCutSegmenter()
    with pytest.raises(InputError, match="start"):
        segmenter.click(5, 5, True)
    segmenter.start(image, box=(34, 25, 86, 66))
    with pytest.raises(InputError):
        segmenter.click(W, 5, True)
