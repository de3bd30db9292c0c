import numpy as np
import pytest

from vidseg.engine.interactive.click_segmenter import (ClickSegmenter, RefineConfig, change_at_click, hold_clicks,
                                                         merge_at_click)
from vidseg.engine.interactive.clicks import Click
from vidseg.engine.interactive.graph_cut import GraphCutConfig, polish_with_graph_cut
from vidseg.engine.interactive.mirrored import MirroredNet
from vidseg.errors import InputError


def disc_image(h: int = 300, w: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A textured grey background with a sharp-edged dark disc; returns (image, disc mask)."""
    rng = np.random.default_rng(0)
    image = np.clip(170 + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
    ys, xs = np.mgrid[:h, :w]
    disc = (xs - 210) ** 2 + (ys - 140) ** 2 < 90 ** 2
    image[disc] = (40, 60, 160)
    return image, disc


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.fixture(scope="module")
def segmenters():
    """The previous (separable) network, whose steps these tests were written around."""
    plain = GraphCutConfig(enabled=False)  # the refinement alone
    return ClickSegmenter("separable", graph_cut=plain), ClickSegmenter("separable", refine=RefineConfig(enabled=False), graph_cut=plain)


def test_refining_snaps_the_outline_to_the_image_edge(segmenters):
    """The output is 112x112 over a ~250-px crop: bilinear leaves a wavy, offset outline that the
    guided filter pulls onto the disc's sharp edge."""
    image, disc = disc_image()
    refined, bilinear = (s.start(image, box=(115, 45, 305, 235)) for s in segmenters)
    assert iou(refined, disc) > 0.7
    assert iou(refined, disc) >= iou(bilinear, disc)
    edge = disc ^ np.roll(disc, 1, axis=1)
    assert (refined[edge] == disc[edge]).mean() >= (bilinear[edge] == disc[edge]).mean()


def test_refined_probabilities_stay_probabilities_and_undo_restores_them(segmenters):
    image, _ = disc_image()
    seg = segmenters[0]
    first = seg.start(image, box=(115, 45, 305, 235)).copy()
    probs = seg.state.probs[-1]
    assert probs.dtype == np.float32 and probs.min() >= 0.0 and probs.max() <= 1.0
    seg.click(20, 20, positive=False)
    assert np.array_equal(seg.undo(), first)


def test_graph_cut_polish_follows_colour_edges_the_network_misses():
    """The polish starts GrabCut from the network's mask: on a disc of one colour it recovers the
    parts the network left out, and clicks afterwards are network-only (fast) corrections."""
    image, disc = disc_image()
    polished = ClickSegmenter("separable", refine=RefineConfig(enabled=False)).start(image, box=(115, 45, 305, 235))
    plain = ClickSegmenter("separable", refine=RefineConfig(enabled=False), graph_cut=GraphCutConfig(enabled=False))
    assert iou(polished, disc) > iou(plain.start(image, box=(115, 45, 305, 235)), disc) + 0.05
    assert iou(polished, disc) > 0.95


def test_graph_cut_keeps_the_network_mask_when_it_finds_nothing():
    image, _ = disc_image()
    probs = np.zeros(image.shape[:2], np.float32)
    assert polish_with_graph_cut(image, (10, 10, 60, 60), probs) is probs


def test_graph_cut_settings_are_checked():
    with pytest.raises(InputError, match="iterations"):
        GraphCutConfig(iterations=0)


def test_each_network_gets_the_steps_chosen_for_it():
    lite = ClickSegmenter("default")  # trained on focus windows: the focus pass, tiles, the merge from click 1
    assert lite.refine.enabled and lite.refine.radius == 4 and not lite.graph_cut.enabled and lite.hold_radius == 3
    assert lite.focus.enabled and lite.merge_locally and lite.merge_from == 1 and lite.tiles.enabled
    separable = ClickSegmenter("separable")
    assert separable.refine.enabled and separable.graph_cut.enabled and separable.merge_locally
    assert separable.hold_radius == 0 and not separable.focus.enabled and separable.merge_from == 1
    assert not separable.tiles.enabled
    assert lite.mirror and isinstance(lite.net, MirroredNet) and not separable.mirror
    assert not ClickSegmenter("default", merge_locally=False).merge_locally  # a step asked for is taken
    assert not isinstance(ClickSegmenter("default", mirror=False).net, MirroredNet)


def test_a_click_changes_only_the_region_of_change_it_lands_in():
    previous = np.zeros((20, 20), np.float32)
    previous[2:8, 2:8] = 1.0  # the object as it was
    new = np.zeros((20, 20), np.float32)
    new[12:18, 12:18] = 0.9  # the network adds a region at the click ...
    # ... and, far from the click, drops the old square: a change the click did not ask for
    merged = merge_at_click(previous, new, change_at_click(previous, new, 15, 15))
    assert (merged[12:18, 12:18] == 0.9).all() and (merged[2:8, 2:8] == 1.0).all()
    assert merged.sum() == previous.sum() + new.sum()
    assert merge_at_click(previous, new, change_at_click(previous, new, 0, 0)) is new  # the click's pixel kept its label: the new map whole


def test_a_box_the_network_finds_nothing_in_is_answered_by_grabcut(monkeypatch):
    image, disc = disc_image()
    segmenter = ClickSegmenter("default")
    monkeypatch.setattr(segmenter, "_predict", lambda clicks, prev: np.zeros(image.shape[:2], np.float32))
    mask = segmenter.start(image, box=(115, 45, 305, 235))
    assert iou(mask, disc) > 0.8


def test_held_clicks_set_their_disks_later_clicks_over_earlier():
    probs = np.full((20, 30), 0.4, np.float32)
    held = hold_clicks(probs.copy(), [Click(10, 10, True), Click(12, 10, False)], radius=3)
    assert held[10, 7] == 1.0 and held[10, 12] == 0.0  # the negative click came later: it wins where both reach
    assert held[0, 0] == np.float32(0.4) and held[10, 16] == np.float32(0.4)  # beyond the disks: unchanged
    assert np.array_equal(hold_clicks(probs.copy(), [Click(10, 10, True)], radius=0), probs)


def test_a_held_click_gets_its_label_even_where_the_network_disagrees(monkeypatch):
    import torch

    image, _ = disc_image()
    segmenter = ClickSegmenter("default", hold_radius=4)
    segmenter.start(image, box=(115, 45, 305, 235))
    half = segmenter.crop // 2  # a network that finds nothing, whatever the clicks say
    monkeypatch.setattr(segmenter.net, "upper", lambda lower, maps: torch.full((1, 1, half, half), -20.0))
    mask = segmenter.click(210, 140, positive=True)
    assert mask[140, 210] and mask[140, 214] and not mask[140, 220] and mask.sum() < 100
    assert ClickSegmenter("default", hold_radius=0).hold_radius == 0


def test_click_cues_can_be_turned_on_for_any_network():
    """Off as the separable network was trained; on when asked: a click then seeds the colour cue
    the network reads (the main pass's cues differ from the selection's own)."""
    image, _ = disc_image()
    assert not ClickSegmenter("separable").click_cues
    seg = ClickSegmenter("separable", click_cues=True)
    seg.start(image, box=(115, 45, 305, 235))
    state = seg.state
    assert not np.array_equal(seg._cues(state.window, state.crop, [Click(120, 230, True)]), state.cues)
    assert seg.click(120, 230).shape == image.shape[:2]


def test_stretched_windows_magnify_a_long_object_s_short_side_and_still_find_it():
    """A wide bar: with squares its crop is mostly margin; stretched 2x, the window is half as
    high, so the bar fills twice as many crop rows, and the mask still lies on it."""
    rng = np.random.default_rng(0)
    image = np.clip(170 + rng.normal(0, 6, (300, 500, 3)), 0, 255).astype(np.uint8)
    image[130:170, 50:450] = (40, 60, 160)
    box = (50, 130, 450, 170)
    square, stretched = ClickSegmenter("default"), ClickSegmenter("default", stretch=2.0)
    assert square.stretch == 1.0 and stretched.stretch == 2.0
    masks = [seg.start(image, box=box) for seg in (square, stretched)]
    assert square.state.window.height is None
    window = stretched.state.window
    assert window.tall == pytest.approx(window.side / 2)
    bar = np.zeros(image.shape[:2], bool)
    bar[130:170, 50:450] = True
    assert iou(masks[1], bar) > 0.8 and iou(masks[1], bar) >= iou(masks[0], bar) - 0.05
    assert stretched.click(250, 150).shape == image.shape[:2]
    with pytest.raises(InputError, match="stretch is"):
        ClickSegmenter("default", stretch=0.5)
