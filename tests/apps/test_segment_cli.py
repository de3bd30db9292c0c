"""``vidseg segment`` end to end, and every bad input the issue lists: one line, non-zero exit."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.alpha_webm import decode_webm_rgba
from tests.paths import shared_data
from vidseg.apps import segment as segment_module
from vidseg.apps.cli import EXIT_INTERRUPTED
from vidseg.eval import evaluate_roots
from tests.apps.cli_checks import assert_user_error, run_command


def run_cli(capsys, *args):
    """Run ``vidseg segment``; the fast flow method unless a test names one (these test I/O, not quality)."""
    method = [] if "--method" in args or "--model" in args else ["--method", "flow"]
    return run_command(capsys, ["segment", *args, *method, "--quiet"])


def frames_and_mask(root):
    return root / "JPEGImages" / "clip", root / "Annotations" / "clip" / "00000.png"


def test_segment_writes_every_frame_with_palette_and_stats(capsys, small_clip_root, tmp_path):
    frames, mask = frames_and_mask(small_clip_root)
    out = tmp_path / "masks"
    code, stdout, _ = run_cli(capsys, frames, "--mask", mask, "-o", out / "clip", "--stats",
                              "--overlay", tmp_path / "o.mp4", "--alpha", tmp_path / "alpha",
                              "--rle", tmp_path / "m.json")
    assert code == 0
    stats = json.loads(stdout.strip())
    assert set(stats) == {"frames", "seconds", "fps", "peak_rss_mb"} and stats["frames"] == 12
    written = sorted(p.name for p in (out / "clip").iterdir())
    assert written == sorted(f"{p.stem}.png" for p in frames.iterdir())
    first = Image.open(out / "clip" / "00000.png")
    assert first.mode == "P" and first.getpalette()[:6] == Image.open(mask).getpalette()[:6]
    assert (tmp_path / "o.mp4").stat().st_size > 0 and (tmp_path / "m.json").stat().st_size > 0
    assert len(list((tmp_path / "alpha").glob("*.png"))) == 12
    scores = evaluate_roots(small_clip_root / "Annotations", out).to_json()
    assert scores["J&F"] > 50  # flow measured 57.7 on this clip; static 41.8


def test_alpha_webm_keeps_its_alpha(capsys, small_clip_root, tmp_path):
    frames, mask = frames_and_mask(small_clip_root)
    code, _, _ = run_cli(capsys, frames, "--mask", mask, "-o", tmp_path / "o", "--alpha", tmp_path / "cut.webm")
    assert code == 0
    decoded = decode_webm_rgba(tmp_path / "cut.webm")
    assert len(decoded) == 12
    alpha = decoded[0][..., 3]
    objects = np.array(Image.open(tmp_path / "o" / "00000.png")) > 0
    assert alpha[objects].mean() > 200 and alpha[~objects].mean() < 30


def test_flow_beats_the_static_baseline(capsys, small_clip_root, tmp_path):
    frames, mask = frames_and_mask(small_clip_root)
    scores = {}
    for method in ("static", "flow"):
        assert run_cli(capsys, frames, "--mask", mask, "-o", tmp_path / method / "clip", "--method", method)[0] == 0
        scores[method] = evaluate_roots(small_clip_root / "Annotations", tmp_path / method).to_json()["J&F"]
    assert scores["flow"] > scores["static"] + 8


def test_video_input_names_masks_by_frame_number(capsys, small_clip, tmp_path):
    from vidseg.data import write_clip_video
    from vidseg.io.masks import write_index_png

    video = tmp_path / "clip.mp4"
    write_clip_video(small_clip, video)
    write_index_png(tmp_path / "first.png", small_clip.labels[0])
    code, _, _ = run_cli(capsys, video, "--mask", tmp_path / "first.png", "-o", tmp_path / "out")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{i:05d}.png" for i in range(12)]


def test_judo_objects_start_on_their_own_frames(capsys, tmp_path):
    judo = shared_data("examples/judo")
    out = tmp_path / "judo"
    code, _, _ = run_cli(capsys, judo / "JPEGImages", "--mask", judo / "Annotations", "-o", out, "--method", "flow")
    assert code == 0
    present = {int(p.stem): set(np.unique(np.array(Image.open(p)))) - {0} for p in out.iterdir()}
    assert len(present) == 16
    for frame, objects in present.items():
        expected = {1} | {o for o, start in ((2, 5), (3, 8), (4, 13)) if frame >= start}
        assert objects == expected, f"frame {frame}: {objects}"


# ---- bad input -------------------------------------------------------------------------------


def test_threads_are_taken_and_a_bad_count_refused_before_work(capsys, small_clip_root, tmp_path):
    frames, mask = frames_and_mask(small_clip_root)
    code, _, err = run_cli(capsys, frames, "--mask", mask, "-o", tmp_path / "a", "--threads", "0")
    assert_user_error(code, err, "--threads")
    assert not (tmp_path / "a").exists()
    code, _, _ = run_cli(capsys, frames, "--mask", mask, "-o", tmp_path / "b", "--threads", "1")
    assert code == 0 and len(list((tmp_path / "b").iterdir())) == 12


def test_missing_input(capsys, tmp_path, small_clip_root):
    _, mask = frames_and_mask(small_clip_root)
    code, _, err = run_cli(capsys, tmp_path / "nope.mp4", "--mask", mask, "-o", tmp_path / "o")
    assert_user_error(code, err, "nope.mp4")


def test_corrupt_video(capsys, tmp_path, small_clip_root):
    _, mask = frames_and_mask(small_clip_root)
    fake = tmp_path / "fake.mp4"
    fake.write_text("this is not a video")
    code, _, err = run_cli(capsys, fake, "--mask", mask, "-o", tmp_path / "o")
    assert_user_error(code, err, "fake.mp4")


def test_truncated_video(capsys, small_clip, tmp_path):
    from vidseg.data import write_clip_video
    from vidseg.io.masks import write_index_png

    video = tmp_path / "clip.mp4"
    write_clip_video(small_clip, video)
    data = video.read_bytes()
    video.write_bytes(data[: len(data) * 6 // 10])
    write_index_png(tmp_path / "first.png", small_clip.labels[0])
    code, _, err = run_cli(capsys, video, "--mask", tmp_path / "first.png", "-o", tmp_path / "o")
    assert_user_error(code, err, "clip.mp4")


def test_empty_frame_folder(capsys, tmp_path, small_clip_root):
    _, mask = frames_and_mask(small_clip_root)
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, tmp_path / "empty", "--mask", mask, "-o", tmp_path / "o")
    assert_user_error(code, err, "empty")


def test_frames_of_mixed_sizes(capsys, tmp_path, small_clip_root):
    frames, mask = frames_and_mask(small_clip_root)
    mixed = tmp_path / "mixed"
    shutil.copytree(frames, mixed)
    Image.new("RGB", (50, 40)).save(mixed / "00005.jpg")
    code, _, err = run_cli(capsys, mixed, "--mask", mask, "-o", tmp_path / "o")
    assert_user_error(code, err, "00005")


def test_mask_one_pixel_narrow_is_padded(capsys, tmp_path, small_clip_root):
    frames, mask = frames_and_mask(small_clip_root)
    image = Image.open(mask)
    image.crop((0, 0, image.width - 1, image.height)).save(tmp_path / "narrow.png")
    code, _, _ = run_cli(capsys, frames, "--mask", tmp_path / "narrow.png", "-o", tmp_path / "o")
    assert code == 0
    assert Image.open(tmp_path / "o" / "00000.png").size == image.size


def test_mask_of_another_size_is_refused(capsys, tmp_path, small_clip_root):
    frames, mask = frames_and_mask(small_clip_root)
    Image.open(mask).resize((100, 60), Image.NEAREST).save(tmp_path / "small.png")
    code, _, err = run_cli(capsys, frames, "--mask", tmp_path / "small.png", "-o", tmp_path / "o")
    assert_user_error(code, err, "small.png", "100x60")


def test_mask_with_no_object(capsys, tmp_path, small_clip_root):
    frames, mask = frames_and_mask(small_clip_root)
    blank = Image.open(mask).point(lambda _: 0)
    blank.save(tmp_path / "blank.png")
    code, _, err = run_cli(capsys, frames, "--mask", tmp_path / "blank.png", "-o", tmp_path / "o")
    assert_user_error(code, err, "no object")


def test_rgb_colour_mask_is_refused(capsys, tmp_path, small_clip_root):
    frames, mask = frames_and_mask(small_clip_root)
    Image.open(mask).convert("RGB").save(tmp_path / "rgb.png")
    code, _, err = run_cli(capsys, frames, "--mask", tmp_path / "rgb.png", "-o", tmp_path / "o")
    assert_user_error(code, err, "index")


def test_output_folder_with_other_files_is_kept(capsys, tmp_path, small_clip_root):
    frames, mask = frames_and_mask(small_clip_root)
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, frames, "--mask", mask, "-o", out)
    assert_user_error(code, err, "--overwrite")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_interrupted_run_leaves_no_half_written_file(capsys, tmp_path, small_clip_root, monkeypatch):
    frames, mask = frames_and_mask(small_clip_root)
    real_write = segment_module.write_index_png
    calls = []

    def write_then_interrupt(path, labels, palette=None):
        calls.append(path)
        if len(calls) == 5:
            raise KeyboardInterrupt
        real_write(path, labels, palette)

    monkeypatch.setattr(segment_module, "write_index_png", write_then_interrupt)
    out = tmp_path / "o"
    code, _, err = run_cli(capsys, frames, "--mask", mask, "-o", out, "--overlay", tmp_path / "v.mp4")
    assert code == EXIT_INTERRUPTED and "Traceback" not in err
    left = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["00000.png", "00001.png", "00002.png", "00003.png"]
    for p in out.iterdir():
        Image.open(p).load()


def test_refind_with_a_baseline_is_one_line(capsys, tmp_path, small_clip_root):
    frames, mask = frames_and_mask(small_clip_root)
    code, _, err = run_cli(capsys, frames, "--mask", mask, "-o", tmp_path / "out", "--refind")
    assert_user_error(code, err, "--refind", "flow")
    assert not (tmp_path / "out").exists()


def test_refind_runs_with_the_network(capsys, tmp_path, small_clip_root):
    frames, mask = frames_and_mask(small_clip_root)
    code, out, _ = run_cli(capsys, frames, "--mask", mask, "-o", tmp_path / "out", "--method", "default", "--refind",
                           "--stats")
    assert code == 0 and len(list((tmp_path / "out").glob("*.png"))) == 12
    stats = json.loads(out.strip())
    assert stats["lost"] >= stats["found"] >= 0  # counted even when nothing was lost


def test_lost_and_found_says_each_change_once_and_counts_them():
    from vidseg.apps.segment import LostAndFound

    said = []
    events = LostAndFound(said.append)
    for stem, lost in (("00", set()), ("01", {2}), ("02", {2}), ("03", {1, 2}), ("04", set()), ("05", {1})):
        events.see(stem, lost)
    assert said == ["object 2 lost at frame 01 (hidden or gone); its mask is cleared until found",
                    "object 1 lost at frame 03 (hidden or gone); its mask is cleared until found",
                    "object 1 found again at frame 04", "object 2 found again at frame 04",
                    "object 1 lost at frame 05 (hidden or gone); its mask is cleared until found"]
    assert (events.lost, events.found) == (3, 2)


# ---- outputs: never the input, never a file replaced without --overwrite, checked first ----------


@pytest.fixture
def video_and_mask(small_clip, tmp_path):
    from vidseg.data import write_clip_video
    from vidseg.io.masks import write_index_png

    write_clip_video(small_clip, tmp_path / "clip.mp4")
    write_index_png(tmp_path / "first.png", small_clip.labels[0])
    return tmp_path / "clip.mp4", tmp_path / "first.png"


@pytest.mark.parametrize("flag", ["--overlay", "--rle", "--alpha"])
def test_an_output_that_is_the_input_video_is_refused_and_the_video_kept(capsys, video_and_mask, tmp_path, flag):
    video, mask = video_and_mask
    before = video.read_bytes()
    (tmp_path / "link.mp4").symlink_to(video)
    for target in (video, tmp_path / "link.mp4"):
        code, _, err = run_cli(capsys, video, "--mask", mask, "-o", tmp_path / "o", flag, target, "--overwrite")
        assert_user_error(code, err, flag, "input")
    assert video.read_bytes() == before and not (tmp_path / "o").exists()


def test_the_masks_folder_may_not_be_the_frames_or_the_mask_folder(capsys, small_clip_root, tmp_path):
    frames = tmp_path / "frames"
    shutil.copytree(small_clip_root / "JPEGImages" / "clip", frames)
    masks = tmp_path / "masks"
    shutil.copytree(small_clip_root / "Annotations" / "clip", masks)
    before = {p.name: p.read_bytes() for folder in (frames, masks) for p in folder.iterdir()}
    for out in (frames, masks):
        code, _, err = run_cli(capsys, frames, "--mask", masks, "-o", out, "--overwrite")
        assert_user_error(code, err, "-o", "input")
    assert {p.name: p.read_bytes() for folder in (frames, masks) for p in folder.iterdir()} == before


def test_an_existing_output_file_needs_overwrite(capsys, small_clip_root, tmp_path):
    frames, mask = frames_and_mask(small_clip_root)
    (tmp_path / "o.mp4").write_bytes(b"an earlier overlay")
    code, _, err = run_cli(capsys, frames, "--mask", mask, "-o", tmp_path / "m", "--overlay", tmp_path / "o.mp4")
    assert_user_error(code, err, "--overlay", "--overwrite")
    assert (tmp_path / "o.mp4").read_bytes() == b"an earlier overlay" and not (tmp_path / "m").exists()
    code, _, _ = run_cli(capsys, frames, "--mask", mask, "-o", tmp_path / "m", "--overlay", tmp_path / "o.mp4",
                         "--overwrite")
    assert code == 0 and (tmp_path / "o.mp4").read_bytes() != b"an earlier overlay"


@pytest.mark.parametrize("make, args, words", [
    (lambda t: (t / "o.mp4").mkdir(), ["--overlay", "{t}/o.mp4"], ["--overlay", "is a folder"]),
    (lambda t: (t / "f").write_text("x"), ["--rle", "{t}/f/m.json"], ["--rle", "is a file"]),
    (lambda t: (t / "m").write_text("x"), [], ["is a file"]),
    (lambda t: None, ["--alpha", "{t}/m"], ["-o and --alpha both name"]),
    (lambda t: None, ["--model", "{t}/missing.pt"], ["missing.pt does not exist"]),
])
def test_outputs_and_method_are_checked_before_anything_is_decoded(capsys, small_clip_root, tmp_path, monkeypatch,
                                                                  make, args, words):
    def no_decoding(*args, **kwargs):
        raise AssertionError("the job was not checked before the model and the video were opened")

    monkeypatch.setattr(segment_module, "VideoSegmenter", no_decoding)
    frames, mask = frames_and_mask(small_clip_root)
    work = tmp_path / "work"
    work.mkdir()
    make(work)
    before = sorted(p.name for p in work.rglob("*"))
    code, _, err = run_command(capsys, ["segment", frames, "--mask", mask, "-o", work / "m",
                                        *[a.format(t=work) for a in args], "--quiet"])
    assert_user_error(code, err, *words)
    assert sorted(p.name for p in work.rglob("*")) == before


def test_objects_selected_by_a_box_and_a_point_need_no_mask_file(capsys, small_clip, small_clip_root, tmp_path):
    from vidseg.ops.boxes import Box

    frames, _ = frames_and_mask(small_clip_root)
    first = Box.from_mask(small_clip.labels[0] == 1)
    inside = cv2.distanceTransform((small_clip.labels[3] == 2).astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(np.argmax(inside), inside.shape)  # the pixel deepest inside object 2
    point = f"3:{x},{y}"
    code, _, _ = run_command(capsys, ["segment", frames, "--box", f"0:{first}", "--point", point, "-o",
                                      tmp_path / "out", "--quiet"])
    assert code == 0
    out = [np.asarray(Image.open(p)) for p in sorted((tmp_path / "out").iterdir())]
    assert len(out) == 12 and all(set(np.unique(labels)) <= {0, 1, 2} for labels in out)
    assert (out[0] == 1).any() and not any((labels == 2).any() for labels in out[:3])  # 2 starts on frame 3
    assert (out[3] == 2).any() and (out[3] == 1).any()


def test_prompts_are_checked_before_anything_is_written(capsys, small_clip_root, tmp_path):
    frames, _ = frames_and_mask(small_clip_root)
    code, _, err = run_command(capsys, ["segment", frames, "-o", tmp_path / "a", "--quiet"])
    assert_user_error(code, err, "--mask, --box or --point")
    code, _, err = run_command(capsys, ["segment", frames, "--point", "99:10,10", "-o", tmp_path / "b", "--quiet"])
    assert_user_error(code, err, "99")
    code, _, err = run_command(capsys, ["segment", frames, "--box", "0:10,10", "-o", tmp_path / "c", "--quiet"])
    assert_user_error(code, err, "FRAME:x0,y0,x1,y1")
    assert not any((tmp_path / d).exists() for d in "abc")
