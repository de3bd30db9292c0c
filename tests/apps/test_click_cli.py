"""``vidseg click`` end to end with a tiny untrained network, and every bad input: one line, exit 2,
no output file."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vidseg.nn.registry import REGISTRY, weights_dir
from vidseg.nn.checkpoint import save_checkpoint
from vidseg.nn.interactive import InteractiveNet, InteractiveNetConfig
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


def test_a_point_selects_without_a_box(capsys, image, model, tmp_path):
    code, out, _ = run_cli(capsys, image, "--point", "240,160", "-o", tmp_path / "m.png", "--model", model)
    assert code == 0
    assert out.splitlines()[0].startswith("first mask (point 240,160): ")
    assert written(tmp_path) == ["m.png"]


@pytest.mark.parametrize("args, words", [
    (["--box", "1,2,3"], ["--box '1,2,3' is not x0,y0,x1,y1"]),
    (["--box", "a,b,c,d"], ["--box"]),
    (["--box", "1,2,nan,4"], ["--box"]),
    (["--point", "5"], ["--point '5' is not x,y"]),
    (["--box", "10,10,50,50", "--click", "1,2"], ["--click '1,2' is not x,y,+ or x,y,-"]),
    (["--box", "10,10,50,50", "--click", "1,2,yes"], ["--click"]),
    (["--box", "10,10,50,50", "--click", "x,2,+"], ["--click"]),
    (["--box", "500,10,600,50"], ["outside the 428x240 image"]),
    (["--box", "10,10,10,50"], ["zero area"]),
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
