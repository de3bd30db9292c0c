import json

import numpy as np
import pytest
import torch
from PIL import Image

from vidseg.apps.track import parse_rays, read_boxes
from vidseg.nn.checkpoint import save_checkpoint
from vidseg.nn.polar import PolarTrackerConfig, PolarTrackerNet
from tests.apps.cli_checks import assert_user_error, run_command

TINY = PolarTrackerConfig(widths=(8, 8, 16, 16), width=16, template=64, search=128, kernel=4, rays=12)


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frames")
    for i in range(5):
        frame = np.full((72, 96, 3), 40, np.uint8)
        frame[20:40, 10 + 4 * i:30 + 4 * i] = (220, 60, 60)
        Image.fromarray(frame).save(folder / f"f{i:03d}.jpg")
    return folder


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tracker.pt"
    save_checkpoint(path, "tracker", PolarTrackerNet(TINY).eval())
    return path


def test_track_writes_one_box_line_and_one_mask_per_frame(capsys, tmp_path, frames_dir, model):
    out = tmp_path / "out"
    code, stdout, _ = run_command(capsys, ["track", frames_dir, "--box", "10,20,30,40", "-o", out,
                                           "--model", model, "--rays", "24", "--stats", "--quiet"])
    assert code == 0
    lines = (out / "boxes.txt").read_text().splitlines()
    assert len(lines) == 5 and lines[0] == "10,20,20,20"  # --box is x0,y0,x1,y1; boxes.txt keeps x,y,w,h
    boxes = read_boxes(out / "boxes.txt")
    assert all(b is None or len(b) == 4 for b in boxes)
    assert sorted(p.name for p in (out / "masks").iterdir()) == [f"f{i:03d}.png" for i in range(5)]
    mask = Image.open(out / "masks" / "f000.png")
    assert mask.mode == "P" and mask.size == (96, 72) and set(np.unique(np.array(mask))) <= {0, 1}
    stats = json.loads(stdout.strip().splitlines()[-1])
    assert stats["frames"] == 5 and stats["fps"] > 0 and 0 <= stats["lost_frames"] <= 4


@pytest.mark.parametrize("box, words", [("200,20,210,30", "outside"), ("10,20,10,30", "zero area"),
                                        ("10,20,5,5", "zero area"),  # x,y,w,h where x0,y0,x1,y1 is meant
                                        ("20,80,40,90", "outside the 96x72"),  # below the 72 rows
                                        ("10,20,10", "x0,y0,x1,y1"), ("a,b,c,d", "x0,y0,x1,y1")])
def test_bad_boxes_are_one_line_errors_and_write_nothing(capsys, tmp_path, frames_dir, model, box, words):
    out = tmp_path / "out"
    code, _, err = run_command(capsys, ["track", frames_dir, "--box", box, "-o", out, "--model", model, "--quiet"])
    assert_user_error(code, err, words)
    assert not out.exists()


@pytest.mark.parametrize("rays", ["2", "0", "x", "361", "100000000"])
def test_too_few_or_too_many_rays_is_refused(capsys, tmp_path, frames_dir, model, rays):
    code, _, err = run_command(capsys, ["track", frames_dir, "--box", "10,20,30,40", "-o", tmp_path / "o",
                                        "--model", model, "--rays", rays])
    assert_user_error(code, err, "--rays", "3 to 360")


def test_a_box_beyond_the_height_but_inside_the_width_is_tracked(capsys, tmp_path, frames_dir, model):
    """The frames are 96 wide and 72 high: x0 = 76 is inside them (width and height not swapped)."""
    out = tmp_path / "out"
    code, _, err = run_command(capsys, ["track", frames_dir, "--box", "76,20,90,40", "-o", out, "--model", model,
                                        "--quiet"])
    assert code == 0, err
    assert (out / "boxes.txt").read_text().splitlines()[0] == "76,20,14,20"


def test_rays_take_3_to_360():
    assert (parse_rays("3"), parse_rays("360"), parse_rays(None)) == (3, 360, None)


def test_a_used_output_folder_and_a_wrong_checkpoint_are_refused(capsys, tmp_path, frames_dir, model):
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    code, _, err = run_command(capsys, ["track", frames_dir, "--box", "10,20,30,40", "-o", used, "--model", model])
    assert_user_error(code, err, "already holds files")
    assert (used / "keep.txt").read_text() == "mine"
    code, _, err = run_command(capsys, ["track", frames_dir, "--box", "10,20,30,40", "-o", tmp_path / "o",
                                        "--model", tmp_path / "missing.pt"])
    assert_user_error(code, err, "does not exist")


def test_the_output_folder_is_checked_before_the_network_loads(capsys, tmp_path, frames_dir, model, monkeypatch):
    from vidseg.apps import track as track_app

    monkeypatch.setattr(track_app, "PolarTracker", None)  # loading the network would fail the test
    before = sorted(p.name for p in frames_dir.iterdir())
    code, _, err = run_command(capsys, ["track", frames_dir, "--box", "10,20,30,40", "-o", frames_dir,
                                        "--model", model, "--overwrite"])
    assert_user_error(code, err, "-o", "input")
    assert sorted(p.name for p in frames_dir.iterdir()) == before
    (tmp_path / "file").write_text("x")
    code, _, err = run_command(capsys, ["track", frames_dir, "--box", "10,20,30,40", "-o", tmp_path / "file" / "o",
                                        "--model", model])
    assert_user_error(code, err, "is a file, not a folder")


@pytest.mark.parametrize("box", ["40,25,41,26", "40,25,42,27", "0,0,96,72"])  # 1 and 2 pixels, the whole frame
def test_tiny_and_whole_frame_boxes_are_tracked(capsys, tmp_path, frames_dir, model, box):
    out = tmp_path / "out"
    code, _, _ = run_command(capsys, ["track", frames_dir, "--box", box, "-o", out, "--model", model, "--quiet"])
    assert code == 0
    boxes = read_boxes(out / "boxes.txt")
    assert len(boxes) == 5 and all(b is None or all(np.isfinite(b)) for b in boxes)


def test_a_one_frame_video_and_a_one_colour_template_frame(capsys, tmp_path, model):
    one = tmp_path / "one"
    one.mkdir()
    Image.fromarray(np.full((72, 96, 3), 128, np.uint8)).save(one / "f000.png")  # all one colour
    out = tmp_path / "out"
    code, _, _ = run_command(capsys, ["track", one, "--box", "10,20,30,40", "-o", out, "--model", model, "--quiet"])
    assert code == 0
    assert (out / "boxes.txt").read_text().splitlines() == ["10,20,20,20"]
    assert [p.name for p in (out / "masks").iterdir()] == ["f000.png"]


def test_a_template_on_a_one_colour_frame_tracks_on(capsys, tmp_path, model):
    clip = tmp_path / "clip"
    clip.mkdir()
    for i in range(3):
        frame = np.full((72, 96, 3), 128, np.uint8)
        if i:
            frame[20:40, 10 + 4 * i:30 + 4 * i] = (220, 60, 60)
        Image.fromarray(frame).save(clip / f"f{i:03d}.png")
    out = tmp_path / "out"
    code, _, _ = run_command(capsys, ["track", clip, "--box", "10,20,30,40", "-o", out, "--model", model, "--quiet"])
    assert code == 0
    boxes = read_boxes(out / "boxes.txt")
    assert len(boxes) == 3 and all(b is None or all(np.isfinite(b)) for b in boxes)
