import json

import pytest

from tests.apps.cli_checks import assert_user_error, run_command

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def test_export_writes_checked_graphs_a_manifest_and_the_cards(capsys, tmp_path):
    out = tmp_path / "graphs"
    code, stdout, _ = run_command(capsys, ["export", "onnx", out, "--model", "interactive", "--model", "tracker"])
    assert code == 0 and "wrote 4 graphs" in stdout
    from vidseg import __version__
    from vidseg.nn.onnx_export import read_manifest

    manifest = read_manifest(out, __version__)
    assert set(manifest["models"]) == {"interactive", "tracker"}
    lower = manifest["models"]["interactive"]["graphs"]["lower"]
    assert lower["inputs"]["crop"][:2] == [1, 3] and set(lower["outputs"]) == {"f2", "f4", "f8", "region"}
    assert manifest["models"]["tracker"]["graphs"]["search"]["inputs"]["search"][2] == "side"
    for model in manifest["models"].values():
        assert (out / model["card"]).is_file()
        for graph in model["graphs"].values():
            onnx.checker.check_model(onnx.load(str(out / graph["file"])))
    # Exporting again into the same folder replaces the earlier export.
    code, _, _ = run_command(capsys, ["export", "onnx", out, "--model", "tracker"])
    assert code == 0 and set(json.loads((out / "manifest.json").read_text())["models"]) == {"tracker"}
    assert not (out / "interactive-lower.onnx").exists()


def test_a_folder_with_other_files_is_refused_and_left_alone(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run_command(capsys, ["export", "onnx", tmp_path, "--model", "tracker"])
    assert_user_error(code, err, "notes.txt", "new or empty folder")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_missing_onnxruntime_is_one_line_naming_the_extra(capsys, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    code, _, err = run_command(capsys, ["export", "onnx", tmp_path / "x", "--model", "tracker"])
    assert_user_error(code, err, "onnxruntime", "onnx extra")


def test_a_manifest_from_another_version_is_refused(tmp_path):
    from vidseg.errors import InputError
    from vidseg.nn.onnx_export import read_manifest

    (tmp_path / "manifest.json").write_text(json.dumps({"vidseg_version": "0.0.1", "models": {}}))
    from vidseg import __version__

    with pytest.raises(InputError, match="vidseg 0.0.1"):
        read_manifest(tmp_path, __version__)
    with pytest.raises(InputError, match="no manifest.json"):
        read_manifest(tmp_path / "nowhere", __version__)


def test_track_and_click_run_on_onnxruntime(capsys, tmp_path):
    import numpy as np
    from PIL import Image

    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        frame = np.full((120, 160, 3), 40, np.uint8)
        frame[40:80, 30 + 5 * i:70 + 5 * i] = (220, 60, 60)
        Image.fromarray(frame).save(frames / f"f{i:03d}.png")
    code, _, _ = run_command(capsys, ["track", frames, "--box", "30,40,70,80", "-o", tmp_path / "track",
                                      "--backend", "onnxruntime", "--quiet"])
    assert code == 0 and len((tmp_path / "track" / "boxes.txt").read_text().splitlines()) == 3
    code, stdout, _ = run_command(capsys, ["click", frames / "f000.png", "--box", "30,40,70,80", "--click", "50,60,+",
                                           "-o", tmp_path / "mask.png", "--backend", "onnxruntime"])
    assert code == 0 and (tmp_path / "mask.png").is_file()
