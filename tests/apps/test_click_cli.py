"""``vidseg click`` end to end with a tiny untrained network, and every bad input: one line, exit 2,
no output file."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from vidseg.apps import click as click_app
from vidseg.engine.interactive import click_segmenter
from vidseg.nn.checkpoint import save_checkpoint
from vidseg.nn.interactive import InteractiveNet, InteractiveNetConfig
from vidseg.nn.registry import REGISTRY, weights_dir
from tests.apps.cli_checks import assert_user_error, run_command


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    torch.manual_seed(0)
    net = InteractiveNet(InteractiveNetConfig(widths=(8, 8, 16, 16), upper_width=16, decoder_width=8, crop=64))
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    save_checkpoint(path, "interactive", net)
    return path


@pytest.fixture
def image(small_clip, tmp_path):
    path = tmp_path / "frame.png"
    Image.fromarray(small_clip.frames[0]).save(path)
    return path


def run_cli(capsys, *args):
    return run_command(capsys, ["click", *args])


def written(tmp_path):
    return sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and p.name != "frame.png")


def test_box_and_clicks_write_the_mask_and_the_cutout(capsys, image, model, tmp_path, small_clip):
    code, out, err = run_cli(capsys, image, "--box", "180,100,290,210", "--click", "240,160,+",
                             "--click", "200,120,-", "-o", tmp_path / "m.png", "--cutout", tmp_path / "c.png",
                             "--model", model)
    assert code == 0, err
    mask_file = Image.open(tmp_path / "m.png")
    assert mask_file.mode == "P" and mask_file.size == (428, 240)
    mask = np.asarray(mask_file)
    assert set(np.unique(mask)) <= {0, 1}
    cutout = np.asarray(Image.open(tmp_path / "c.png"))
    assert cutout.shape == (240, 428, 4)
    assert np.array_equal(cutout[..., 3], np.where(mask == 1, 255, 0))
    assert np.array_equal(cutout[mask == 1, :3], small_clip.frames[0][mask == 1])
    assert not cutout[mask == 0].any()
    lines = out.splitlines()
    assert lines[0].startswith("first mask (box 180,100,290,210): ") and lines[0].endswith(" ms")
    assert lines[1].startswith("click 240,160,+: ") and lines[2].startswith("click 200,120,-: ")
    assert lines[3] == f"mask area: {mask.sum()} px ({100 * mask.sum() / (428 * 240):.1f}% of 428x240)"
    assert f"{mask.sum()} px in" in lines[2]
    assert written(tmp_path) == ["c.png", "m.png"]


def test_a_box_right_of_the_image_height_is_inside_a_wide_image(capsys, image, model, tmp_path):
    """The image is 428 wide and 240 high: x0 = 300 is inside it (width and height not swapped)."""
    code, out, err = run_cli(capsys, image, "--box", "300,100,420,200", "-o", tmp_path / "m.png", "--model", model)
    assert code == 0, err
    assert out.splitlines()[0].startswith("first mask (box 300,100,420,200): ")


def test_add_paints_a_second_object_into_an_existing_index_png(capsys, image, model, tmp_path):
    code, _, _ = run_cli(capsys, image, "--box", "180,100,290,210", "-o", tmp_path / "m.png", "--model", model)
    first = np.asarray(Image.open(tmp_path / "m.png"))
    code, _, err = run_cli(capsys, image, "--box", "20,20,120,120", "--id", "2", "--add", "-o", tmp_path / "m.png",
                           "--model", model)
    assert code == 0, err
    both = np.asarray(Image.open(tmp_path / "m.png"))
    assert Image.open(tmp_path / "m.png").mode == "P"
    assert set(np.unique(both)) <= {0, 1, 2} and (both == 2).any()
    assert np.array_equal(both == 1, (first == 1) & (both != 2))  # object 1 kept where 2 did not cover it
    # again with id 2: its old pixels go, the new ones come
    code, _, _ = run_cli(capsys, image, "--point", "240,160", "--id", "2", "--add", "-o", tmp_path / "m.png",
                         "--model", model)
    again = np.asarray(Image.open(tmp_path / "m.png"))
    assert code == 0 and (again == 2).any()
    assert (again[(both == 2) & (again != 2)] == 0).all()  # object 2's old pixels are cleared, not kept


@pytest.mark.parametrize("args, words", [(["--add"], "does not exist"), (["--id", "0"], "1..255"),
                                         (["--id", "256"], "1..255")])
def test_add_and_id_mistakes_are_one_line_errors(capsys, image, model, tmp_path, args, words):
    code, _, err = run_cli(capsys, image, "--box", "20,20,120,120", "-o", tmp_path / "new.png", "--model", model,
                           *args)
    assert_user_error(code, err, words)
    assert written(tmp_path) == []


def test_add_refuses_a_mask_of_another_image(capsys, image, model, tmp_path):
    Image.fromarray(np.zeros((10, 10), np.uint8), mode="P").save(tmp_path / "small.png")
    code, _, err = run_cli(capsys, image, "--box", "20,20,120,120", "--add", "-o", tmp_path / "small.png",
                           "--model", model)
    assert_user_error(code, err, "10x10", "428x240")


def test_a_point_selects_without_a_box(capsys, image, model, tmp_path):
    code, out, _ = run_cli(capsys, image, "--point", "240,160", "-o", tmp_path / "m.png", "--model", model)
    assert code == 0
    assert out.splitlines()[0].startswith("first mask (point 240,160): ")
    assert written(tmp_path) == ["m.png"]


@pytest.mark.parametrize("tag", ["separable", "train-split"])
def test_shipped_networks_are_chosen_by_tag(capsys, image, tmp_path, tag):
    code, _, _ = run_cli(capsys, image, "--box", "150,100,330,230", "-o", tmp_path / "m.png", "--model", tag)
    assert code == 0 and written(tmp_path) == ["m.png"]


@pytest.mark.parametrize("args, words", [
    (["--box", "1,2,3"], ["--box is '1,2,3'", "x0,y0,x1,y1"]),
    (["--box", "a,b,c,d"], ["--box"]),
    (["--box", "1,2,nan,4"], ["not a finite number"]),
    (["--point", "5"], ["--point '5' is not x,y"]),
    (["--box", "10,10,50,50", "--click", "1,2"], ["--click '1,2' is not x,y,+ or x,y,-"]),
    (["--box", "10,10,50,50", "--click", "1,2,yes"], ["--click"]),
    (["--box", "10,10,50,50", "--click", "x,2,+"], ["--click"]),
    (["--box", "500,10,600,50"], ["outside the 428x240 image"]),
    (["--box", "10,10,10,50"], ["zero area"]),
    (["--box", "10,250,50,260"], ["outside the 428x240 image"]),  # below the 240 rows of a wide image
    (["--point", "428,10"], ["outside the 428x240 image"]),
    (["--box", "10,10,50,50", "--click", "10,240,+"], ["click (10.0, 240.0) is outside"]),
    (["--box", "10,10,50,50", "--click=-1,5,-"], ["outside"]),
    ([], ["--box", "--point"]),
    (["--box", "10,10,50,50", "--point", "20,20"], ["one of them"]),
])
def test_bad_selections_and_clicks(capsys, image, model, tmp_path, args, words):
    code, _, err = run_cli(capsys, image, *args, "-o", tmp_path / "m.png", "--model", model)
    assert_user_error(code, err, *words)
    assert written(tmp_path) == []


def test_unreadable_and_missing_images(capsys, model, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    code, _, err = run_cli(capsys, broken, "--box", "1,1,5,5", "-o", tmp_path / "m.png", "--model", model)
    assert_user_error(code, err, "cannot read image", "broken.png")
    code, _, err = run_cli(capsys, tmp_path / "nope.jpg", "--box", "1,1,5,5", "-o", tmp_path / "m.png")
    assert_user_error(code, err, "nope.jpg does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.png"]


def test_missing_default_weights(capsys, image, tmp_path, no_shipped_weights):
    code, _, err = run_cli(capsys, image, "--box", "10,10,50,50", "-o", tmp_path / "m.png")
    assert_user_error(code, err, "shipped interactive weights", "vidseg train interactive")
    assert written(tmp_path) == []


@pytest.mark.parametrize("which, words", [("missing", "does not exist"), ("vos", "'vos' network")])
def test_bad_model_files(capsys, image, tmp_path, which, words):
    model = tmp_path / "none.pt" if which == "missing" else weights_dir() / REGISTRY["vos"].weights["default"].file
    code, _, err = run_cli(capsys, image, "--box", "10,10,50,50", "-o", tmp_path / "m.png", "--model", model)
    assert_user_error(code, err, words)
    assert written(tmp_path) == []


def test_output_that_is_a_folder(capsys, image, model, tmp_path):
    (tmp_path / "m.png").mkdir()
    code, _, err = run_cli(capsys, image, "--box", "10,10,50,50", "-o", tmp_path / "m.png", "--model", model)
    assert_user_error(code, err, "cannot write")
    assert written(tmp_path) == []


# ---- outputs: never the image, never a file replaced without --overwrite, all or none ------------


def test_an_existing_output_needs_overwrite(capsys, image, model, tmp_path):
    (tmp_path / "m.png").write_bytes(b"an earlier mask")
    code, _, err = run_cli(capsys, image, "--point", "240,160", "-o", tmp_path / "m.png", "--model", model)
    assert_user_error(code, err, "-o", "--overwrite")
    assert (tmp_path / "m.png").read_bytes() == b"an earlier mask"
    code, _, err = run_cli(capsys, image, "--point", "240,160", "-o", tmp_path / "m.png", "--model", model, "--overwrite")
    assert code == 0, err
    assert Image.open(tmp_path / "m.png").mode == "P"


@pytest.mark.parametrize("flag", ["-o", "--cutout"])
def test_the_image_itself_is_never_an_output(capsys, image, model, tmp_path, flag):
    before = image.read_bytes()
    os.link(image, tmp_path / "same.png")
    for target in (image, tmp_path / "same.png"):
        others = ["-o", tmp_path / "m.png"] if flag == "--cutout" else []
        code, _, err = run_cli(capsys, image, "--point", "240,160", flag, target, *others, "--model", model,
                               "--overwrite")
        assert_user_error(code, err, flag, "input")
    assert image.read_bytes() == before and not (tmp_path / "m.png").exists()


def test_mask_and_cutout_may_not_share_a_path(capsys, image, model, tmp_path):
    code, _, err = run_cli(capsys, image, "--point", "240,160", "-o", tmp_path / "m.png", "--cutout",
                           tmp_path / "m.png", "--model", model)
    assert_user_error(code, err, "-o and --cutout both name")
    assert written(tmp_path) == []


def test_a_read_only_cutout_folder_is_refused_before_the_model_loads(capsys, image, model, tmp_path, monkeypatch):
    from vidseg.io import outputs

    (tmp_path / "ro").mkdir()
    real_access = os.access
    # As root every folder is writable, so the test tells the check which one is not.
    monkeypatch.setattr(outputs.os, "access", lambda p, mode: p != tmp_path / "ro" and real_access(p, mode))
    monkeypatch.setattr(click_segmenter, "ClickSegmenter", None)  # loading it would fail the test
    code, _, err = run_cli(capsys, image, "--point", "240,160", "-o", tmp_path / "m.png",
                           "--cutout", tmp_path / "ro" / "c.png", "--model", model)
    assert_user_error(code, err, "--cutout", "read-only")
    assert written(tmp_path) == []


def test_a_cutout_that_cannot_be_written_leaves_no_mask_either(capsys, image, model, tmp_path, monkeypatch):
    real_save = click_app.save_png

    def full_disk_for_the_cutout(img, path):
        if img.mode == "RGBA":
            raise OSError(28, "No space left on device")
        real_save(img, path)

    monkeypatch.setattr(click_app, "save_png", full_disk_for_the_cutout)
    code, _, err = run_cli(capsys, image, "--point", "240,160", "-o", tmp_path / "m.png",
                           "--cutout", tmp_path / "c.png", "--model", model)
    assert_user_error(code, err, "No space left", "nothing was written")
    assert written(tmp_path) == [] and not list(tmp_path.glob(".*"))


def test_a_failed_cutout_rename_puts_the_old_mask_back(capsys, image, model, tmp_path, monkeypatch):
    from vidseg.io import atomic

    (tmp_path / "m.png").write_bytes(b"an earlier mask")
    real_replace = os.replace

    def read_only_for_the_cutout(src, dst):
        if str(dst).endswith("c.png"):
            raise PermissionError(13, "Permission denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", read_only_for_the_cutout)
    code, _, err = run_cli(capsys, image, "--point", "240,160", "-o", tmp_path / "m.png", "--overwrite",
                           "--cutout", tmp_path / "c.png", "--model", model)
    assert_user_error(code, err, "Permission denied")
    assert (tmp_path / "m.png").read_bytes() == b"an earlier mask" and not (tmp_path / "c.png").exists()
    assert not list(tmp_path.glob(".*"))
