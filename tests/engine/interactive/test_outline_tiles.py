"""Focus passes tiled along the first mask's outline."""

import numpy as np
import pytest

from vidseg.engine.interactive.click_segmenter import ClickSegmenter, FocusConfig, RefineConfig
from vidseg.engine.interactive.outline_tiles import TileConfig, outline_tiles
from vidseg.errors import InputError
from tests.engine.interactive.test_focus import DarkNet, spoke_image


def square_mask() -> np.ndarray:
    mask = np.zeros((300, 400), bool)
    mask[100:200, 100:300] = True
    return mask


def test_tiles_cover_the_outline_and_skip_windows_of_one_label():
    mask = square_mask()
    tiles = outline_tiles(mask, (100, 100, 300, 200), smallest=20, config=TileConfig(share=0.25, overlap=0.25))
    assert tiles and all(t.side == 50 for t in tiles)
    covered = np.zeros_like(mask)
    for t in tiles:
        x0, y0, x1, y1 = (int(round(v)) for v in t.box)
        covered[max(y0, 0):y1, max(x0, 0):x1] = True
    outline = mask ^ np.pad(mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:], 1)
    assert covered[outline].all()
    # The square's middle is all object: no tile is spent there.
    assert not any(t.contains(200, 150) and t.side < 100 for t in tiles)


def test_a_tile_is_never_smaller_than_the_focus_pass_allows():
    tiles = outline_tiles(square_mask(), (100, 100, 300, 200), smallest=120, config=TileConfig(share=0.1))
    assert tiles and all(t.side == 120 for t in tiles)


def test_an_empty_mask_gets_no_tiles():
    assert outline_tiles(np.zeros((300, 400), bool), (100, 100, 300, 200), 20, TileConfig()) == []


def test_tile_settings_are_checked():
    for bad in ({"share": 0}, {"share": 1.5}, {"overlap": 1}, {"overlap": -0.1}):
        with pytest.raises(InputError, match="tiles need"):
            TileConfig(**bad)


def test_the_first_mask_gets_a_part_too_thin_for_the_whole_object_crop_without_a_click():
    image, dark = spoke_image()
    spoke = np.zeros_like(dark)
    spoke[119:121, 182:200] = True  # the spoke's start, in the tiles on the square's outline
    masks = {}
    for enabled in (False, True):
        # Bilinear upsampling: the guided filter alone finds some of the spoke's start.
        segmenter = ClickSegmenter(DarkNet(), tiles=TileConfig(enabled=enabled, share=0.25), hold_radius=0,
                                   refine=RefineConfig(enabled=False), backend="torch")
        masks[enabled] = segmenter.start(image, box=(60, 60, 260, 180))
    assert masks[True][spoke].mean() > 0.8 and not masks[False][spoke].any()
    # The square's inside, far from every outline, is as the whole-object pass drew it.
    assert np.array_equal(masks[True][90:150, 90:150], masks[False][90:150, 90:150])


def test_no_tiles_without_the_focus_pass_or_where_the_crop_already_shows_the_object_magnified():
    image, _ = spoke_image()
    plain = ClickSegmenter(DarkNet(), tiles=TileConfig(enabled=False), hold_radius=0, backend="torch")
    without_focus = ClickSegmenter(DarkNet(), focus=FocusConfig(enabled=False), tiles=TileConfig(share=0.25),
                                   hold_radius=0, backend="torch")
    assert np.array_equal(without_focus.start(image, box=(60, 60, 260, 180)), plain.start(image, box=(60, 60, 260, 180)))
    small = ClickSegmenter(DarkNet(), tiles=TileConfig(share=0.25), hold_radius=0, backend="torch")
    calls = []
    small._rerun_window = lambda *args: calls.append(args)  # a 30-px box: its crop magnifies it already
    small.start(image, box=(60, 60, 90, 90))
    assert calls == []
