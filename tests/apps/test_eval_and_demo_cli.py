import json
import shutil

from vidseg.apps.cli import EXIT_USER_ERROR, main


def test_eval_prints_a_table_and_writes_percent_json(capsys, small_clip_root, tmp_path):
    pred = tmp_path / "pred"
    shutil.copytree(small_clip_root / "Annotations", pred)
    code = main(["eval", str(small_clip_root), str(pred), "--json", str(tmp_path / "s.json")])
    out, _ = capsys.readouterr()
    assert code == 0 and "clip" in out and "J&F" in out
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["J&F"] == scores["J"] == scores["F"] == 100.0
    assert set(scores["sequences"]) == {"clip"}


def test_eval_json_is_never_an_input_nor_replaced_unasked(capsys, small_clip_root, tmp_path, monkeypatch):
    import vidseg.eval

    pred = tmp_path / "pred"
    shutil.copytree(small_clip_root / "Annotations", pred)
    (tmp_path / "s.json").write_text("keep")
    monkeypatch.setattr(vidseg.eval, "evaluate_roots", lambda *a, **k: (_ for _ in ()).throw(AssertionError("scored")))
    frame = next((pred / "clip").iterdir())
    for target, flags, words in ((tmp_path / "s.json", [], "--overwrite"), (frame, ["--overwrite"], "input")):
        code = main(["eval", str(small_clip_root), str(pred), "--json", str(target), *flags])
        _, err = capsys.readouterr()
        assert code == EXIT_USER_ERROR and words in err and err.count("\n") == 1
    assert (tmp_path / "s.json").read_text() == "keep"
    monkeypatch.undo()
    assert main(["eval", str(small_clip_root), str(pred), "--json", str(tmp_path / "s.json"), "--overwrite"]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["J&F"] == 100.0


def test_eval_without_predictions_is_a_one_line_error(capsys, small_clip_root, tmp_path):
    (tmp_path / "pred").mkdir()
    code = main(["eval", str(small_clip_root), str(tmp_path / "pred")])
    _, err = capsys.readouterr()
    assert code == EXIT_USER_ERROR and err.count("\n") == 1 and "Traceback" not in err


def test_demo_segments_the_example_and_reports_jf(capsys, tmp_path, monkeypatch):
    from vidseg.apps import demo
    from vidseg.data import ClipConfig

    monkeypatch.setattr(demo, "DEMO_CLIP", ClipConfig(height=120, width=214, num_frames=8))
    assert main(["demo", "-o", str(tmp_path)]) == 0  # the shipped default network, and the baseline
    out, _ = capsys.readouterr()
    assert " default: J&F" in out and "    flow: J&F" in out and str(tmp_path / "masks" / "example") in out
    assert len(list((tmp_path / "masks" / "example").glob("*.png"))) == 8
    assert (tmp_path / "overlay.mp4").stat().st_size > 0


def test_demo_checks_the_method_and_the_folder_before_writing_the_clip(capsys, tmp_path):
    assert main(["demo", "-o", str(tmp_path / "d"), "--method", "nope"]) == EXIT_USER_ERROR
    _, err = capsys.readouterr()
    assert err.startswith("vidseg: error: unknown method 'nope'") and err.count("\n") == 1
    assert not (tmp_path / "d").exists()
    (tmp_path / "file").write_text("x")
    assert main(["demo", "-o", str(tmp_path / "file")]) == EXIT_USER_ERROR
    assert "is a file" in capsys.readouterr()[1]
