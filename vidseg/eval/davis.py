"""Evaluate DAVIS-layout predictions (folders of index PNGs) against ground truth.

Conventions, as DAVIS 2017 and vos-benchmark:

- the objects of a sequence are the non-zero ids of its ground truth; each is scored from the first
  ground-truth frame it appears in onward (frames where it is absent from both count as J = F = 1);
- semi-supervised evaluation skips the first and last frame of every sequence;
- ids that appear only in the prediction are ignored; a prediction is needed for every scored frame.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from vidseg.errors import InputError
from vidseg.eval.metrics import DEFAULT_BOUND_TH, boundary_f, region_iou
from vidseg.eval.results import EvalResult, ObjectResult, SequenceResult
from vidseg.io.masks import read_mask


def read_index_png(path: Path) -> np.ndarray:
    """Object ids of a mask PNG, (H, W) uint8 (see :func:`vidseg.io.masks.read_mask`)."""
    return read_mask(path).labels


def read_sequence(root: Path, name: str, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A DAVIS-layout sequence in memory: (T, H, W, 3) uint8 frames and (T, H, W) bool masks of its
    first ``count`` frames (all when None). Benchmarks use it; masks must exist for every frame."""
    from vidseg.io.frames import open_frames

    with open_frames(Path(root) / "JPEGImages" / name) as source:
        frames = np.stack([source.read(i) for i in range(min(count or len(source), len(source)))])
        stems = source.stems[: len(frames)]
    masks = np.stack([read_mask(Path(root) / "Annotations" / name / f"{s}.png").labels > 0 for s in stems])
    return frames, masks


def _png_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".png" and p.is_file())


def _scored_range(n_frames: int, skip_first_last: bool) -> range:
    return range(1, n_frames - 1) if skip_first_last else range(n_frames)


def evaluate_sequence(
    gt_dir: str | os.PathLike,
    pred_dir: str | os.PathLike,
    skip_first_last: bool = True,
    *,
    bound_th: float = DEFAULT_BOUND_TH,
    name: str | None = None,
) -> SequenceResult:
    """Score one sequence: ``gt_dir`` and ``pred_dir`` hold index PNGs with the same file names.

    ``name`` labels the result and the error messages (default: the ground-truth folder's name).
    """
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    name = name or gt_dir.name
    if not gt_dir.is_dir():
        raise InputError(f"ground truth of sequence {name!r} not found at {gt_dir}")
    if not pred_dir.is_dir():
        raise InputError(f"no prediction folder for sequence {name!r} at {pred_dir}")
    frames = _png_names(gt_dir)
    scored = _scored_range(len(frames), skip_first_last)
    if len(scored) == 0:
        raise InputError(
            f"sequence {name!r} has {len(frames)} ground-truth frames, none left to score after skipping "
            "the first and last; use skip_first_last=False or remove the sequence"
        )

    started: dict[int, tuple[list[str], list[float], list[float]]] = {}
    for index in range(scored.stop):
        gt = read_index_png(gt_dir / frames[index])
        for obj_id in _new_ids(gt, started.keys()):
            started[obj_id] = ([], [], [])
        if index not in scored or not started:
            continue
        pred = _read_prediction(pred_dir / frames[index], gt.shape, name)
        for obj_id, (names, j_values, f_values) in started.items():
            pred_obj, gt_obj = pred == obj_id, gt == obj_id
            names.append(frames[index])
            j_values.append(region_iou(pred_obj, gt_obj))
            f_values.append(boundary_f(pred_obj, gt_obj, bound_th))

    objects = tuple(
        ObjectResult.from_frames(obj_id, *started[obj_id]) for obj_id in sorted(started) if started[obj_id][0]
    )
    if not objects:
        raise InputError(
            f"the ground truth of sequence {name!r} has no object on its scored frames; "
            "remove the sequence or leave it out with `sequences`"
        )
    return SequenceResult(name=name, objects=objects)


def _new_ids(labels: np.ndarray, known: Iterable[int]) -> list[int]:
    """Non-zero ids in labels (H, W) uint8 that are not in ``known``.

    Tests each id up to the maximum rather than counting all pixels: ids are few and small in practice,
    and a histogram of a whole frame costs more than the metrics.
    """
    known = set(known)
    return [k for k in range(1, int(labels.max()) + 1) if k not in known and np.any(labels == k)]


def _read_prediction(path: Path, gt_shape: tuple[int, ...], sequence: str) -> np.ndarray:
    if not path.is_file():
        raise InputError(
            f"sequence {sequence!r}: prediction for frame {path.name} is missing at {path}; "
            "write a mask for every ground-truth frame"
        )
    pred = read_index_png(path)
    if pred.shape != gt_shape:
        raise InputError(
            f"sequence {sequence!r}, frame {path.name}: prediction is {pred.shape[1]}x{pred.shape[0]} "
            f"but ground truth is {gt_shape[1]}x{gt_shape[0]} (width x height); "
            "write masks at the ground truth's size"
        )
    return pred


def resolve_gt_root(gt_root: str | os.PathLike) -> Path:
    """The folder of sequence folders: ``gt_root`` itself, or its ``Annotations`` (``Annotations/480p``)."""
    root = Path(gt_root)
    if not root.is_dir():
        raise InputError(
            f"ground-truth root {root} is not a folder; pass a DAVIS root or a folder of sequences"
        )
    annotations = root / "Annotations"
    if annotations.is_dir():
        root = annotations / "480p" if (annotations / "480p").is_dir() else annotations
    return root


def list_sequences(root: Path) -> list[str]:
    """Names of the sub-folders of ``root`` that hold at least one PNG, sorted."""
    return sorted(
        p.name for p in root.iterdir() if p.is_dir() and any(q.suffix.lower() == ".png" for q in p.iterdir())
    )


def select_sequences(
    gt_root: Path, pred_root: Path, sequences: Iterable[str] | None, strict: bool
) -> list[str]:
    """The sequences to score: the named ones (or all of the ground truth's), checked against both roots.

    strict: every chosen sequence must have a prediction folder; otherwise those without are left out.
    """
    available = list_sequences(gt_root)
    if not available:
        raise InputError(f"no sequence folders with PNG masks in {gt_root}")
    if isinstance(sequences, str):
        sequences = [sequences]  # one name, not its letters
    chosen = available if sequences is None else sorted(set(sequences))
    unknown = [s for s in chosen if s not in available]
    if unknown:
        raise InputError(f"sequences not in the ground truth at {gt_root}: {', '.join(unknown)}")
    predicted = [s for s in chosen if (pred_root / s).is_dir()]
    missing = [s for s in chosen if s not in predicted]
    if strict and missing:
        raise InputError(
            f"no prediction folder in {pred_root} for: {', '.join(missing)}; "
            "predict them, name the sequences to score, or pass strict=False"
        )
    if not predicted:
        raise InputError(f"none of the chosen sequences has a prediction folder in {pred_root}")
    return predicted


def evaluate_roots(
    gt_root: str | os.PathLike,
    pred_root: str | os.PathLike,
    sequences: Iterable[str] | None = None,
    *,
    strict: bool = True,
    skip_first_last: bool = True,
    bound_th: float = DEFAULT_BOUND_TH,
    workers: int = 1,
) -> EvalResult:
    """Score every sequence of ``pred_root`` against ``gt_root`` (see :func:`select_sequences`).

    workers > 1 spreads sequences over that many processes (worth it from a few hundred frames on).
    """
    gt_root, pred_root = resolve_gt_root(gt_root), Path(pred_root)
    if not pred_root.is_dir():
        raise InputError(f"prediction root {pred_root} is not a folder")
    names = select_sequences(gt_root, pred_root, sequences, strict)
    jobs = [(gt_root / n, pred_root / n, skip_first_last, bound_th, n) for n in names]
    if workers <= 1 or len(jobs) == 1:
        results = [_evaluate_job(job) for job in jobs]
    else:
        # spawn, not fork: a caller may hold threads (torch, OpenCV) that fork would copy half-way.
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_evaluate_job, jobs))
    return EvalResult(sequences=tuple(results))


def _evaluate_job(job: tuple[Path, Path, bool, float, str]) -> SequenceResult:
    gt_dir, pred_dir, skip, bound_th, name = job
    return evaluate_sequence(gt_dir, pred_dir, skip, bound_th=bound_th, name=name)
