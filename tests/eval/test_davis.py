from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidseg.errors import InputError
from vidseg.eval import EvalResult, evaluate_roots, evaluate_sequence

H, W = 24, 32


def write_index_png(path: Path, labels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(labels.astype(np.uint8), mode="P")
    image.putpalette([0, 0, 0, 200, 0, 0, 0, 200, 0] + [0] * (256 * 3 - 9))
    image.save(path)


def alpha_gt(t: int) -> np.ndarray:
    """5 frames; object 1 throughout, object 2 from frame 2 on."""
    labels = np.zeros((H, W), np.uint8)
    labels[2:10, 2 + t : 12 + t] = 1
    if t >= 2:
        labels[14:22, 16:28] = 2
    return labels


def beta_gt(t: int) -> np.ndarray:
    """4 frames, one object."""
    labels = np.zeros((H, W), np.uint8)
    labels[5:15, 5:20] = 1
    return labels


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A DAVIS root (``Annotations/``) and a prediction root.

    alpha's prediction: object 1 missing on frame 3; object 2 already predicted on frame 1, before its
    ground truth starts (to be ignored). beta's prediction is perfect.
    """
    gt_root, pred_root = tmp_path / "davis", tmp_path / "pred"
    for t in range(5):
        gt = alpha_gt(t)
        pred = gt.copy()
        if t == 3:
            pred[pred == 1] = 0
        if t == 1:
            pred[14:22, 16:28] = 2
        write_index_png(gt_root / "Annotations" / "alpha" / f"{t:05d}.png", gt)
        write_index_png(pred_root / "alpha" / f"{t:05d}.png", pred)
    for t in range(4):
        write_index_png(gt_root / "Annotations" / "beta" / f"{t:05d}.png", beta_gt(t))
        write_index_png(pred_root / "beta" / f"{t:05d}.png", beta_gt(t))
    return gt_root, pred_root


def test_scores_per_object_and_global_average_over_objects(layout):
    gt_root, pred_root = layout
    result = evaluate_roots(gt_root, pred_root)
    alpha, beta = result.sequences
    assert [s.name for s in result.sequences] == ["alpha", "beta"]

    obj1, obj2 = alpha.objects
    # scored frames 1..3 (first and last skipped); frame 3 is a miss
    assert obj1.frames == ("00001.png", "00002.png", "00003.png")
    assert obj1.j_per_frame == (1.0, 1.0, 0.0)
    assert obj1.f_per_frame == (1.0, 1.0, 0.0)
    assert obj1.j.mean == pytest.approx(200 / 3)
    assert obj1.j.recall == pytest.approx(200 / 3)
    assert obj1.j.decay == pytest.approx(100.0)  # n=3: first bin frames 0..1, last bin frame 2
    # object 2 starts on frame 2; its early prediction on frame 1 is not scored
    assert obj2.frames == ("00002.png", "00003.png")
    assert obj2.j.mean == 100.0 and obj2.f.mean == 100.0

    assert alpha.j == pytest.approx((200 / 3 + 100) / 2)
    assert beta.jf == 100.0
    assert result.j == pytest.approx((200 / 3 + 100 + 100) / 3)  # objects, not sequences
    assert result.jf == pytest.approx((result.j + result.f) / 2)


def test_without_skipping_first_and_last(layout):
    gt_root, pred_root = layout
    result = evaluate_roots(gt_root, pred_root, skip_first_last=False)
    assert len(result.sequences[0].objects[0].frames) == 5
    assert result.sequences[0].objects[1].frames == ("00002.png", "00003.png", "00004.png")


def test_json_has_the_documented_shape(layout, tmp_path):
    result = evaluate_roots(*layout)
    data = result.to_json()
    assert list(data) == ["J&F", "J", "F", "sequences"]
    assert list(data["sequences"]) == ["alpha", "beta"]
    alpha = data["sequences"]["alpha"]
    assert list(alpha) == ["J&F", "J", "F", "objects"]
    assert list(alpha["objects"]) == ["1", "2"]
    assert alpha["objects"]["1"]["J"] == pytest.approx({"mean": 200 / 3, "recall": 200 / 3, "decay": 100.0})
    assert list(alpha["objects"]["1"]["F"]) == ["mean", "recall", "decay"]
    out = tmp_path / "out" / "scores.json"
    result.write_json(out)
    assert json.loads(out.read_text()) == data


def test_table_is_aligned_with_one_row_per_object_and_a_global_row(layout):
    table = evaluate_roots(*layout).format_table()
    lines = table.splitlines()
    assert lines[0].split() == [
        "sequence", "obj", "J&F", "J-mean", "J-recall", "J-decay", "F-mean", "F-recall", "F-decay"
    ]
    assert len({len(line) for line in lines}) == 1
    rows = [line.split() for line in lines if not line.startswith("-")][1:]
    assert [r[:2] for r in rows] == [["alpha", "1"], ["alpha", "2"], ["beta", "1"], ["global", "88.9"]]


def test_plain_folder_of_sequences_is_accepted(layout):
    gt_root, pred_root = layout
    assert evaluate_roots(gt_root / "Annotations", pred_root).jf == evaluate_roots(gt_root, pred_root).jf


def test_evaluate_sequence_alone(layout):
    gt_root, pred_root = layout
    result = evaluate_sequence(gt_root / "Annotations" / "beta", pred_root / "beta")
    assert result.name == "beta" and result.jf == 100.0


def test_binary_grey_prediction_is_object_one(layout):
    gt_root, pred_root = layout
    for t in range(4):
        grey = Image.fromarray((beta_gt(t) * 255).astype(np.uint8), mode="L")
        grey.save(pred_root / "beta" / f"{t:05d}.png")
    assert evaluate_roots(gt_root, pred_root, ["beta"]).jf == 100.0


def test_missing_prediction_frame_names_sequence_and_frame(layout):
    gt_root, pred_root = layout
    (pred_root / "alpha" / "00002.png").unlink()
    with pytest.raises(InputError, match=r"'alpha'.*00002\.png"):
        evaluate_roots(gt_root, pred_root)


def test_size_mismatch_names_both_sizes(layout):
    gt_root, pred_root = layout
    write_index_png(pred_root / "beta" / "00001.png", np.zeros((H, W - 1), np.uint8))
    with pytest.raises(InputError, match=rf"{W - 1}x{H}.*{W}x{H}"):
        evaluate_roots(gt_root, pred_root)


def test_missing_prediction_sequence(layout):
    gt_root, pred_root = layout
    for p in (pred_root / "beta").iterdir():
        p.unlink()
    (pred_root / "beta").rmdir()
    with pytest.raises(InputError, match="beta"):
        evaluate_roots(gt_root, pred_root)
    assert [s.name for s in evaluate_roots(gt_root, pred_root, strict=False).sequences] == ["alpha"]
    assert [s.name for s in evaluate_roots(gt_root, pred_root, ["alpha"]).sequences] == ["alpha"]
    with pytest.raises(InputError, match="beta"):
        evaluate_roots(gt_root, pred_root, ["alpha", "beta"])


def test_unknown_sequence_and_bad_roots(layout, tmp_path):
    gt_root, pred_root = layout
    with pytest.raises(InputError, match="gamma"):
        evaluate_roots(gt_root, pred_root, ["gamma"])
    with pytest.raises(InputError, match="not a folder"):
        evaluate_roots(tmp_path / "nowhere", pred_root)
    with pytest.raises(InputError, match="no sequence"):
        evaluate_roots(tmp_path / "pred" / "alpha", pred_root)


def test_workers_give_the_same_result(layout):
    serial = evaluate_roots(*layout)
    parallel = evaluate_roots(*layout, workers=2)
    assert isinstance(parallel, EvalResult)
    assert parallel.to_json() == serial.to_json()


def test_read_sequence_gives_frames_and_bool_masks(small_clip_root):
    from vidseg.eval.davis import read_sequence

    frames, masks = read_sequence(small_clip_root, "clip", count=5)
    assert frames.shape[0] == masks.shape[0] == 5 and frames.dtype == np.uint8 and masks.dtype == bool
    assert frames.shape[1:3] == masks.shape[1:] and masks[0].any()
    assert read_sequence(small_clip_root, "clip")[0].shape[0] == 12
