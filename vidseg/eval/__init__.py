"""Evaluation: DAVIS J (region IoU), F (boundary F-measure), J&F, and a runner for DAVIS-layout folders."""

from __future__ import annotations

from vidseg.eval.davis import evaluate_roots, evaluate_sequence, read_index_png, resolve_gt_root
from vidseg.eval.metrics import boundary_f, decay, recall, region_iou, seg2bmap
from vidseg.eval.results import EvalResult, MetricStats, ObjectResult, SequenceResult

__all__ = [
    "EvalResult",
    "MetricStats",
    "ObjectResult",
    "SequenceResult",
    "boundary_f",
    "decay",
    "evaluate_roots",
    "evaluate_sequence",
    "read_index_png",
    "recall",
    "region_iou",
    "resolve_gt_root",
    "seg2bmap",
]
