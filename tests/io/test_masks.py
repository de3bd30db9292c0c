"""Masks: index PNG round trips, binary masks, rejected colour masks, fitting to the frame size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidseg.errors import InputError
from vidseg.io.masks import DAVIS_PALETTE, LabelImage, fit_mask_to_frame, read_mask, write_index_png

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_davis_palette_is_the_voc_colormap():
    assert len(DAVIS_PALETTE) == 768
    triples = [tuple(DAVIS_PALETTE[3 * k : 3 * k + 3]) for k in range(256)]
    assert triples[:9] == [
        (0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128),
        (128, 0, 128), (0, 128, 128), (128, 128, 128), (64, 0, 0),
    ]
    assert triples[255] == (224, 224, 192)
    assert len(set(triples)) == 256


def test_write_then_read_index_png(tmp_path):
    labels = np.zeros((5, 7), dtype=np.uint8)
    labels[1:3, 2:5] = 1
    labels[4, :] = 3
    labels[0, 6] = 255
    write_index_png(tmp_path / "m.png", labels)
    with Image.open(tmp_path / "m.png") as image:
        assert image.mode == "P"
        assert bytes(image.getpalette()) == DAVIS_PALETTE
    mask = read_mask(tmp_path / "m.png")
    assert isinstance(mask, LabelImage)
    assert mask.labels.dtype == np.uint8 and np.array_equal(mask.labels, labels)
    assert mask.palette == DAVIS_PALETTE
    assert mask.object_ids == [1, 3, 255]
    assert not list(tmp_path.glob(".*tmp*"))  # the atomic write left nothing behind


def test_custom_palette_is_kept(tmp_path):
    palette = bytes([0, 0, 0, 10, 20, 30, 40, 50, 60])
    labels = np.array([[0, 1], [2, 1]], dtype=np.uint8)
    write_index_png(tmp_path / "m.png", labels, palette)
    mask = read_mask(tmp_path / "m.png")
    assert mask.palette[:9] == palette and len(mask.palette) == 768
    write_index_png(tmp_path / "again.png", mask.labels, mask.palette)
    assert read_mask(tmp_path / "again.png").palette == mask.palette


def test_palette_ids_are_not_colours(tmp_path):
    # A palette whose entry 2 is white must still read as id 2, never as "255".
    image = Image.fromarray(np.array([[0, 2], [2, 5]], dtype=np.uint8))
    image.putpalette([0, 0, 0] + [255, 255, 255] * 255)
    image.save(tmp_path / "p.png")
    assert np.array_equal(read_mask(tmp_path / "p.png").labels, [[0, 2], [2, 5]])


@pytest.mark.parametrize(
    "mode, values",
    [("L", (0, 255)), ("L", (0, 1)), ("I;16", (0, 255)), ("RGB", (0, 255)), ("RGBA", (0, 255))],
)
def test_binary_masks_become_object_1(tmp_path, mode, values):
    on = np.zeros((4, 6), dtype=bool)
    on[1:3, 2:5] = True
    grey = np.where(on, values[1], values[0]).astype(np.uint16 if mode == "I;16" else np.uint8)
    if mode in ("RGB", "RGBA"):
        image = Image.fromarray(np.dstack([grey] * 3)).convert(mode)
    else:
        image = Image.fromarray(grey)  # uint16 gives "I;16"
    assert image.mode == mode
    image.save(tmp_path / "m.png")
    mask = read_mask(tmp_path / "m.png")
    assert mask.palette is None
    assert np.array_equal(mask.labels, on.astype(np.uint8))


def test_one_bit_mask(tmp_path):
    on = np.zeros((4, 6), dtype=bool)
    on[0, 0] = on[3, 5] = True
    Image.fromarray(on).save(tmp_path / "m.png")
    assert np.array_equal(read_mask(tmp_path / "m.png").labels, on.astype(np.uint8))


def test_colour_rgb_mask_is_rejected(tmp_path):
    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    rgb[1, 1] = (128, 0, 0)  # DAVIS object 1 saved as RGB
    Image.fromarray(rgb).save(tmp_path / "m.png")
    with pytest.raises(InputError, match="colour RGB image, not an index image.*palette PNG"):
        read_mask(tmp_path / "m.png")


def test_greyscale_with_other_values_is_rejected(tmp_path):
    Image.fromarray(np.array([[0, 128], [255, 0]], dtype=np.uint8)).save(tmp_path / "m.png")
    with pytest.raises(InputError, match=r"not an index image: greyscale values \[0, 128, 255\]"):
        read_mask(tmp_path / "m.png")


def test_jpeg_mask_gets_a_hint(tmp_path):
    grey = np.zeros((32, 32), dtype=np.uint8)
    grey[8:24, 5:20] = 255
    Image.fromarray(grey).save(tmp_path / "m.jpg", quality=50)
    with pytest.raises(InputError, match="JPEG compression"):
        read_mask(tmp_path / "m.jpg")


def test_unreadable_and_missing_masks(tmp_path):
    (tmp_path / "m.png").write_text("not a png")
    with pytest.raises(InputError, match="cannot read mask"):
        read_mask(tmp_path / "m.png")
    with pytest.raises(InputError, match="does not exist"):
        read_mask(tmp_path / "missing.png")


def test_write_index_png_rejects_non_label_arrays(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_index_png(tmp_path / "m.png", np.zeros((3, 3), dtype=np.int64))
    assert not (tmp_path / "m.png").exists()


# ---------------------------------------------------------------------------------------------
# fit_mask_to_frame


def test_fit_pads_a_mask_one_pixel_short():
    labels = np.arange(1, 13, dtype=np.uint8).reshape(3, 4)
    fitted = fit_mask_to_frame(labels, 4, 5)
    assert fitted.shape == (4, 5) and fitted.dtype == np.uint8
    assert np.array_equal(fitted[:3, :4], labels)  # aligned at the top-left
    assert not fitted[3, :].any() and not fitted[:, 4].any()  # padded with background


def test_fit_crops_a_mask_two_pixels_too_large():
    labels = np.arange(30, dtype=np.uint8).reshape(5, 6)
    fitted = fit_mask_to_frame(labels, 3, 4)
    assert np.array_equal(fitted, labels[:3, :4])


def test_fit_allows_one_percent_of_large_frames():
    assert fit_mask_to_frame(np.ones((1080, 1901), np.uint8), 1080, 1920).shape == (1080, 1920)  # 19 <= 1%
    with pytest.raises(InputError, match="resize the mask to 1920x1080"):
        fit_mask_to_frame(np.ones((1080, 1900), np.uint8), 1080, 1920)  # 20 > 19


def test_fit_rejects_a_mask_of_another_resolution():
    with pytest.raises(InputError, match=r"mask is 427x240 but the frames are 854x480"):
        fit_mask_to_frame(np.zeros((240, 427), np.uint8), 480, 854)


def test_fit_returns_matching_masks_unchanged():
    labels = np.ones((3, 3), np.uint8)
    assert fit_mask_to_frame(labels, 3, 3) is labels


def test_real_judo_mask_is_one_pixel_narrow():
    path = DATA / "examples" / "judo" / "Annotations" / "00005.png"
    if not path.exists():
        pytest.skip("shared data not present")
    mask = read_mask(path)
    assert mask.labels.shape == (480, 853) and mask.object_ids == [2]
    fitted = fit_mask_to_frame(mask.labels, 480, 854)
    assert fitted.shape == (480, 854) and (fitted == 2).sum() == (mask.labels == 2).sum()
