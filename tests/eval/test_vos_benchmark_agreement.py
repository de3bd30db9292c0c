"""Our J, F and J&F agree with the independent vos-benchmark package on real DAVIS masks.

The "predictions" are the ground truth spoiled the way a model spoils it: shifted by up to 10 pixels,
eroded or dilated by a different amount on every frame, one frame lost, one with a spurious blob.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.paths import shared_data
from vidseg.eval import evaluate_roots

SEQUENCES = ("bear", "dog-agility", "mallard-fly", "soccerball")  # large, medium and small objects
N_FRAMES = 25
TOLERANCE = 0.05


def shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Translate (H, W) uint8 by (dy, dx) pixels, filling with background."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(mask, matrix, (mask.shape[1], mask.shape[0]), flags=cv2.INTER_NEAREST)


def spoil(gt: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
    """An imperfect prediction of ground-truth ids (H, W) uint8 for frame index t."""
    if t == 7:
        return np.zeros_like(gt)  # the object lost on one frame
    pred = shift((gt > 0).astype(np.uint8), *rng.integers(-10, 11, size=2))
    size = int(rng.integers(1, 7)) * 2 + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    pred = cv2.dilate(pred, kernel) if t % 2 else cv2.erode(pred, kernel)
    if t == 11:
        # a spurious blob in the corner farthest from the object
        ys, xs = np.nonzero(gt)
        cy = 40 if ys.mean() > gt.shape[0] / 2 else gt.shape[0] - 40
        cx = 50 if xs.mean() > gt.shape[1] / 2 else gt.shape[1] - 50
        cv2.circle(pred, (cx, cy), 25, 1, thickness=-1)
    return pred


def save_like(path: Path, labels: np.ndarray, palette_from: Image.Image) -> None:
    image = Image.fromarray(labels, mode="P")
    image.putpalette(palette_from.getpalette())
    image.save(path)


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> tuple[Path, Path]:
    annotations = shared_data("davis2016-train/Annotations")
    gt_root = tmp_path_factory.mktemp("gt")
    pred_root = tmp_path_factory.mktemp("pred")
    for name in SEQUENCES:
        rng = np.random.default_rng(len(name))
        (gt_root / name).mkdir()
        (pred_root / name).mkdir()
        for t, src in enumerate(sorted((annotations / name).glob("*.png"))[:N_FRAMES]):
            shutil.copyfile(src, gt_root / name / src.name)
            with Image.open(src) as image:
                save_like(pred_root / name / src.name, spoil(np.array(image), t, rng), image)
    return gt_root, pred_root


def test_agrees_with_vos_benchmark(roots, tmp_path):
    benchmark = pytest.importorskip("vos_benchmark.benchmark").benchmark
    gt_root, pred_root = roots
    # vos-benchmark writes results.csv into the mask root: give it a copy of its own.
    their_pred = tmp_path / "their_pred"
    shutil.copytree(pred_root, their_pred)
    jf, j, f, per_object = benchmark([str(gt_root)], [str(their_pred)], num_processes=2, verbose=False)

    ours = evaluate_roots(gt_root, pred_root)

    assert [s.name for s in ours.sequences] == sorted(SEQUENCES)
    assert ours.jf == pytest.approx(jf[0], abs=TOLERANCE)
    assert ours.j == pytest.approx(j[0], abs=TOLERANCE)
    assert ours.f == pytest.approx(f[0], abs=TOLERANCE)
    for seq in ours.sequences:
        their_j, their_f = per_object[0][seq.name]
        assert list(their_j) == [o.obj_id for o in seq.objects]
        assert seq.j == pytest.approx(float(np.mean(list(their_j.values()))), abs=TOLERANCE)
        assert seq.f == pytest.approx(float(np.mean(list(their_f.values()))), abs=TOLERANCE)
    # far from perfect, and the boundary term really costs
    assert ours.jf < 85
    assert ours.f < 80
