"""The focus pass: after a click, the network reruns on a window around the click's change."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vidseg.engine.interactive.click_segmenter import (FOCUS_GUIDE_RADIUS, ClickSegmenter, FocusConfig, RefineConfig,
                                                         change_at_click, feather, focus_window, thin_at)
from vidseg.engine.interactive.outline_tiles import TileConfig
from vidseg.nn.interactive import InteractiveNetConfig, LowerFeatures
from vidseg.ops.crops import CropWindow


class DarkNet(nn.Module):
    """A stand-in network: the object is whatever is dark, seen at its stride-2 output."""

    def __init__(self) -> None:
        super().__init__()
        self.config = InteractiveNetConfig(crop=64, encoder="lite0", focus=True)

    def lower(self, crops: torch.Tensor) -> LowerFeatures:
        empty = torch.zeros(crops.shape[0], 5, 8, 8)
        return LowerFeatures(crops, crops, crops, empty)

    def upper(self, lower: LowerFeatures, maps: torch.Tensor) -> torch.Tensor:
        dark = 1 - F.avg_pool2d(lower.f2.mean(1, keepdim=True), 2)
        return 40 * (dark - 0.5)


def spoke_image() -> tuple[np.ndarray, np.ndarray]:
    """A bright image with a dark square and a thin dark spoke (2 px) leaving it to the right."""
    image = np.full((240, 320, 3), 220, np.uint8)
    image[60:180, 60:180] = 20
    image[119:121, 180:260] = 20
    return image, image[..., 0] < 128


def test_the_window_holds_the_change_and_is_kept_between_its_bounds():
    selection = CropWindow(0, 0, 400)
    previous = np.zeros((300, 400), np.float32)
    new = previous.copy()
    new[100:140, 200:230] = 1
    window = focus_window(change_at_click(previous, new, 210, 120), 210, 120, selection, crop=64, config=FocusConfig())
    assert window.contains(200, 100) and window.contains(229, 139)
    assert 0.2 * 400 <= window.side <= 0.7 * 400
    # A click that changed nothing: the smallest window, centred on it.
    alone = focus_window(change_at_click(previous, previous, 50, 60), 50, 60, selection, crop=64, config=FocusConfig())
    assert alone.side == 0.2 * 400 and alone.contains(50, 60)
    # A change larger than the window may be: the largest, centred on the click.
    new[:] = 1
    assert focus_window(change_at_click(previous, new, 50, 60), 50, 60, selection, crop=64, config=FocusConfig()).side == 0.7 * 400
    # A selection whose crop already shows the image at 2x or more: nothing finer to see.
    assert focus_window(change_at_click(previous, new, 20, 20), 20, 20, CropWindow(0, 0, 40), crop=64, config=FocusConfig()) is None


def test_feather_is_one_inside_and_fades_to_the_edges():
    weights = feather(20, 0.2)
    assert weights[10, 10] == 1 and weights[0, 10] < 0.2 and weights[10, -1] < 0.2
    assert np.allclose(weights, weights.T) and np.allclose(weights, weights[::-1])


def test_a_click_on_a_part_too_thin_for_the_whole_object_crop_gets_it_from_the_focus_pass():
    image, dark = spoke_image()
    spoke = np.zeros_like(dark)
    spoke[119:121, 200:240] = True
    masks = {}
    for focus in (False, True):
        # Without tiles along the first mask's outline, which would find the spoke before any click.
        segmenter = ClickSegmenter(DarkNet(), focus=FocusConfig(enabled=focus), tiles=TileConfig(enabled=False),
                                   hold_radius=0, backend="torch")
        first = segmenter.start(image, box=(60, 60, 260, 180))
        assert not first[spoke].any()  # 2 px at a 64-px crop of a 280-px window: below its output
        masks[focus] = segmenter.click(220, 119, positive=True)
    assert masks[True][spoke].mean() > 0.8 and masks[False][spoke].mean() < 0.2
    # Far from the click the whole-object mask stands.
    assert np.array_equal(masks[True][:, :150], masks[False][:, :150])


def test_the_local_merge_starts_at_the_click_it_is_set_to(monkeypatch):
    image, _ = spoke_image()
    segmenter = ClickSegmenter(DarkNet(), focus=FocusConfig(enabled=False), merge_locally=True, merge_from=2,
                               hold_radius=0, backend="torch")
    segmenter.start(image, box=(60, 60, 260, 180))
    far = np.zeros(image.shape[:2], np.float32)
    far[10:20, 10:20] = 1  # a change far from every click
    far[60:180, 60:180] = 1
    monkeypatch.setattr(segmenter, "_predict", lambda clicks, previous: np.maximum(previous, far))
    first = segmenter.click(100, 100, positive=True)  # the first click: the whole prediction
    assert first[15, 15]
    far[30:40, 10:20] = 1
    far[200:220, 280:300] = 1
    second = segmenter.click(290, 210, positive=True)  # from the second: only the change at the click
    assert second[210, 290] and not second[35, 15]


def test_focus_settings_are_checked():
    import pytest

    from vidseg.errors import InputError

    for bad in ({"smallest": 0.8, "largest": 0.5}, {"max_zoom": 0.5}, {"feather": 0.7}, {"growth": -1},
                {"thin_zoom": 0.5}, {"thin_width": 0}):
        with pytest.raises(InputError, match="focus needs"):
            FocusConfig(**bad)


def hairline_image() -> tuple[np.ndarray, np.ndarray]:
    """A bright image with a dark square and a 1-px dark hairline leaving it to the right."""
    image = np.full((240, 320, 3), 220, np.uint8)
    image[60:180, 60:180] = 20
    image[120, 180:300] = 20
    return image, image[..., 0] < 128


def test_thin_at_tells_a_line_or_no_change_from_a_blob():
    change = np.zeros((100, 100), bool)
    change[50:53, 10:90] = True  # a 3-px line
    assert thin_at(change, 40, 51, width=9)
    change[30:70, 30:70] = True  # a blob the line runs through
    assert not thin_at(change, 40, 51, width=9) and thin_at(change, 85, 51, width=9)
    assert thin_at(None, 5, 5, width=9)
    edge = np.ones((100, 100), bool)  # a change up to the image's edge is not thin there
    assert not thin_at(edge, 0, 99, width=9)


def test_a_click_on_a_hairline_gets_it_from_the_close_pass_only_with_thin_zoom():
    image, _ = hairline_image()
    line = np.zeros(image.shape[:2], bool)
    line[120, 250:270] = True
    masks = {}
    for zoom in (0.0, 4.0):
        segmenter = ClickSegmenter(DarkNet(), focus=FocusConfig(thin_zoom=zoom), tiles=TileConfig(enabled=False),
                                   hold_radius=0, backend="torch")
        segmenter.start(image, box=(60, 60, 300, 180))
        masks[zoom] = segmenter.click(260, 120, positive=True)
    assert masks[4.0][line].mean() > 0.8 and masks[0.0][line].mean() < 0.2
    assert np.array_equal(masks[4.0][:, :200], masks[0.0][:, :200])  # far from the click: as it was


def test_a_click_that_changed_a_thick_part_gets_no_close_pass(monkeypatch):
    image, _ = spoke_image()
    segmenter = ClickSegmenter(DarkNet(), focus=FocusConfig(thin_zoom=4.0), tiles=TileConfig(enabled=False),
                               hold_radius=0, backend="torch")
    segmenter.start(image, box=(60, 60, 260, 180))
    windows = []  # the passes' windows; each pass keeps the map as it is
    monkeypatch.setattr(segmenter, "_rerun_window", lambda window, clicks, probs: windows.append(window) or probs)
    grown = np.zeros(image.shape[:2], np.float32)
    grown[40:200, 40:200] = 1  # the click grows the mask by a 20-px band: not thin
    monkeypatch.setattr(segmenter, "_predict", lambda clicks, previous: np.maximum(previous, grown))
    segmenter.click(50, 100, positive=True)
    assert len(windows) == 1  # the focus pass alone
    segmenter.undo()
    grown[100:103, 30:40] = 1  # a 3-px line out of it: thin
    segmenter.click(35, 101, positive=True)
    assert len(windows) == 3 and windows[-1].longest < windows[-2].longest and windows[-1].contains(35, 101)


def test_focus_passes_draw_the_outline_at_the_image_pixels_when_refining():
    # A dark disk seen through a 64-px crop of a 420-px window: the network's 32-px output puts the
    # outline between samples 13 image pixels apart; the guided filter snaps it to the disk's edge.
    yy, xx = np.mgrid[:480, :480]
    disk = (xx - 241.5) ** 2 + (yy - 238.3) ** 2 < 150 ** 2
    image = np.where(disk[..., None], 30, 210).astype(np.uint8).repeat(3, axis=2)
    wrong = {}
    for refine in (False, True):
        segmenter = ClickSegmenter(DarkNet(), refine=RefineConfig(enabled=refine, radius=4), hold_radius=0,
                                   backend="torch")
        assert segmenter.tiles.enabled and segmenter.focus.enabled
        mask = segmenter.start(image, box=(91, 88, 392, 389))
        wrong[refine] = int((mask != disk).sum())
    assert wrong[True] < 0.5 * wrong[False]


def test_networks_trained_on_focus_windows_refine_at_a_small_radius():
    segmenter = ClickSegmenter(DarkNet(), backend="torch")
    assert segmenter.refine.enabled and segmenter.refine.radius == FOCUS_GUIDE_RADIUS < RefineConfig().radius
