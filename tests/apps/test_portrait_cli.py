"""``vidseg portrait`` end to end with a stand-in person model, and every bad input: one line, exit 2,
no output created. One test runs the real MediaPipe model (skips without it)."""

from __future__ import annotations

import importlib.util
import json

import av
import numpy as np
import pytest
from PIL import Image

from tests.portrait_fakes import RedPersonModel, person_frames, person_truth
from vidseg.apps import portrait as portrait_app
from vidseg.apps.cli import EXIT_INTERRUPTED
from vidseg.engine.portrait import selfie
from vidseg.errors import InputError
from tests.apps.cli_checks import assert_user_error, run_command

H, W = 48, 64


@pytest.fixture
def fake_model(monkeypatch):
    """Every run in the test gets a RedPersonModel instead of MediaPipe's."""
    models = []

    def load(name="landscape"):
        models.append(RedPersonModel())
        return models[-1]

    monkeypatch.setattr(portrait_app, "load_person_model", load)
    return models


@pytest.fixture
def frames_dir(tmp_path):
    """Six frames named f1..f6 (natural order), no person in f3."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for t, frame in enumerate(person_frames(6, H, W, absent=(2,))):
        Image.fromarray(frame).save(folder / f"f{t + 1}.png")
    return folder


def run_cli(capsys, *args):
    return run_command(capsys, ["portrait", *args, "--quiet"])



def video_frames(path):
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]


def test_masks_by_frame_stem_video_and_stats(capsys, fake_model, frames_dir, tmp_path):
    masks, video = tmp_path / "masks", tmp_path / "out.mp4"
    code, out, _ = run_cli(capsys, frames_dir, "--masks", masks, "--output", video, "--color", "0,177,64", "--stats")
    assert code == 0
    stats = json.loads(out.strip())
    assert {"frames", "seconds", "fps", "peak_rss_mb", "latency_ms_median", "latency_ms_p95"} <= set(stats)
    assert stats["frames"] == 6
    assert sorted(p.name for p in masks.iterdir()) == [f"f{t}.png" for t in range(1, 7)]
    frames = person_frames(6, H, W, absent=(2,))
    for t in range(6):
        mask = Image.open(masks / f"f{t + 1}.png")
        assert mask.mode == "P"
        labels = np.asarray(mask)
        assert set(np.unique(labels)) <= {0, 1}
        if t == 2:
            assert not labels.any()  # no person: an empty mask, not a crash
        else:
            assert (labels.astype(bool) == person_truth(frames[t])).mean() > 0.97
    composited = video_frames(video)
    assert len(composited) == 6 and composited[0].shape == (H, W, 3)
    assert np.abs(composited[0][2, W - 3].astype(int) - [0, 177, 64]).max() < 20  # background replaced
    assert fake_model[0].closed


def test_blur_background_image_and_no_fusion(capsys, fake_model, frames_dir, tmp_path):
    Image.fromarray(np.full((H, W, 3), 200, np.uint8)).save(tmp_path / "bg.jpg")
    assert run_cli(capsys, frames_dir, "--masks", tmp_path / "a", "--output", tmp_path / "a.mp4", "--blur", "3")[0] == 0
    assert run_cli(capsys, frames_dir, "--masks", tmp_path / "b", "--output", tmp_path / "b.mp4",
                   "--background", tmp_path / "bg.jpg", "--no-fusion")[0] == 0
    assert np.abs(video_frames(tmp_path / "b.mp4")[0][2, 2].astype(int) - 200).max() < 12
    assert len(list((tmp_path / "b").iterdir())) == 6


def test_a_video_file_gives_masks_named_by_frame_number(capsys, fake_model, tmp_path):
    from vidseg.io.writers import write_video

    write_video(tmp_path / "in.mp4", person_frames(4, H, W), fps=12)
    assert run_cli(capsys, tmp_path / "in.mp4", "--masks", tmp_path / "m")[0] == 0
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [f"{i:05d}.png" for i in range(4)]


def no_outputs(tmp_path):
    return not (tmp_path / "masks").exists() and not (tmp_path / "out.mp4").exists() and \
        not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_background_of_another_size_is_refused_before_any_output(capsys, fake_model, frames_dir, tmp_path):
    Image.new("RGB", (W + 10, H)).save(tmp_path / "bg.png")
    code, _, err = run_cli(capsys, frames_dir, "--masks", tmp_path / "masks", "--output", tmp_path / "out.mp4",
                           "--background", tmp_path / "bg.png")
    assert_user_error(code, err, "74x48", "64x48", "size")
    assert no_outputs(tmp_path)


def test_bad_background_is_refused_even_without_an_output_video(capsys, fake_model, frames_dir, tmp_path):
    Image.new("RGB", (W, H + 1)).save(tmp_path / "bg.png")
    code, _, err = run_cli(capsys, frames_dir, "--masks", tmp_path / "masks", "--background", tmp_path / "bg.png")
    assert_user_error(code, err, "64x49")
    assert no_outputs(tmp_path)


def test_unreadable_background_is_refused_before_any_output(capsys, fake_model, frames_dir, tmp_path):
    (tmp_path / "bg.png").write_text("no image here")
    code, _, err = run_cli(capsys, frames_dir, "--masks", tmp_path / "masks", "--output", tmp_path / "out.mp4",
                           "--background", tmp_path / "bg.png")
    assert_user_error(code, err, "background image")
    assert no_outputs(tmp_path)


@pytest.mark.parametrize("options, words", [
    (["--color", "300,0,0"], ["R,G,B"]),
    (["--blur", "big"], ["--blur"]),
    (["--blur", "3", "--color", "1,2,3"], ["at most one"]),
])
def test_bad_background_options(capsys, fake_model, frames_dir, tmp_path, options, words):
    code, _, err = run_cli(capsys, frames_dir, "--masks", tmp_path / "masks", "--output", tmp_path / "out.mp4", *options)
    assert_user_error(code, err, *words)
    assert no_outputs(tmp_path)


def test_missing_input_and_used_mask_folder(capsys, fake_model, frames_dir, tmp_path):
    assert_user_error(*run_cli(capsys, tmp_path / "nope.mp4", "--masks", tmp_path / "masks")[::2], "does not exist")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x.png").write_bytes(b"")
    assert_user_error(*run_cli(capsys, frames_dir, "--masks", tmp_path / "used")[::2], "--overwrite")


def test_without_the_extra_the_message_says_what_to_install(capsys, monkeypatch, frames_dir, tmp_path):
    def missing():
        raise InputError(f"portrait mode needs MediaPipe's selfie segmenter, which is not installed; {selfie.INSTALL_HINT}")

    monkeypatch.setattr(selfie, "_import_selfie_module", missing)
    code, _, err = run_cli(capsys, frames_dir, "--masks", tmp_path / "masks", "--output", tmp_path / "out.mp4")
    assert_user_error(code, err, "vidseg[portrait]", "--no-deps mediapipe==0.10.14")
    assert no_outputs(tmp_path)


def test_ctrl_c_leaves_complete_files_only(capsys, monkeypatch, frames_dir, tmp_path):
    monkeypatch.setattr(portrait_app, "load_person_model", lambda name="landscape": RedPersonModel(interrupt_at=4))
    code, _, err = run_cli(capsys, frames_dir, "--masks", tmp_path / "masks", "--output", tmp_path / "out.mp4")
    assert code == EXIT_INTERRUPTED and "interrupted" in err
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == ["f1.png", "f2.png", "f3.png"]
    assert not (tmp_path / "out.mp4").exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())


@pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None, reason="mediapipe is not installed (vidseg[portrait])")
def test_with_mediapipe_an_empty_scene_gives_empty_masks(capsys, tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for t in range(3):
        Image.fromarray(rng.integers(90, 110, size=(96, 160, 3)).astype(np.uint8)).save(folder / f"{t:03d}.png")
    code, _, err = run_cli(capsys, folder, "--masks", tmp_path / "masks", "--output", tmp_path / "out.mp4")
    assert code == 0, err
    masks = [np.asarray(Image.open(p)) for p in sorted((tmp_path / "masks").iterdir())]
    assert len(masks) == 3 and all(m.mean() < 0.01 for m in masks)
    assert len(video_frames(tmp_path / "out.mp4")) == 3


# ---- outputs: never the input, never a file replaced without --overwrite, checked first ----------


def test_outputs_that_are_inputs_are_refused_even_with_overwrite(capsys, fake_model, frames_dir, tmp_path):
    before = {p.name: p.read_bytes() for p in frames_dir.iterdir()}
    Image.new("RGB", (W, H)).save(tmp_path / "bg.png")
    for args in (["--masks", frames_dir], ["--masks", tmp_path / "m", "--output", frames_dir / "f1.png"],
                 ["--masks", tmp_path / "m", "--output", tmp_path / "bg.png", "--background", tmp_path / "bg.png"]):
        code, _, err = run_cli(capsys, frames_dir, *args, "--overwrite")
        assert_user_error(code, err, "input")
    assert {p.name: p.read_bytes() for p in frames_dir.iterdir()} == before and not (tmp_path / "m").exists()


def test_an_existing_output_video_needs_overwrite(capsys, fake_model, frames_dir, tmp_path):
    (tmp_path / "out.mp4").write_bytes(b"an earlier video")
    code, _, err = run_cli(capsys, frames_dir, "--masks", tmp_path / "masks", "--output", tmp_path / "out.mp4")
    assert_user_error(code, err, "--output", "--overwrite")
    assert (tmp_path / "out.mp4").read_bytes() == b"an earlier video" and not (tmp_path / "masks").exists()
    code, _, _ = run_cli(capsys, frames_dir, "--masks", tmp_path / "masks", "--output", tmp_path / "out.mp4",
                         "--overwrite")
    assert code == 0 and len(video_frames(tmp_path / "out.mp4")) == 6


def test_an_output_video_that_is_a_folder_is_refused_before_the_video_opens(capsys, frames_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(portrait_app, "open_frames", None)  # opening the input would fail the test
    (tmp_path / "out.mp4").mkdir()
    code, _, err = run_cli(capsys, frames_dir, "--masks", tmp_path / "masks", "--output", tmp_path / "out.mp4")
    assert_user_error(code, err, "--output", "is a folder")
    assert not (tmp_path / "masks").exists()
