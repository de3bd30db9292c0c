"""Typed results of a DAVIS-style evaluation, their JSON form and a printable table.

Every score is in percent (0-100). Global scores average over all objects of all sequences, as the
DAVIS 2017 evaluation and vos-benchmark do, so a sequence with three objects weighs three times.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from vidseg.eval.metrics import decay, recall
from vidseg.io.atomic import write_text_atomic


@dataclass(frozen=True)
class MetricStats:
    """Mean, recall and decay of one metric (J or F) over frames or objects, in percent."""

    mean: float
    recall: float
    decay: float

    @classmethod
    def from_frames(cls, values: tuple[float, ...]) -> MetricStats:
        """Statistics of per-frame values in 0..1 (at least one)."""
        return cls(
            mean=100.0 * float(np.mean(values)),
            recall=100.0 * recall(values),
            decay=100.0 * decay(values),
        )

    @classmethod
    def average(cls, stats: list[MetricStats]) -> MetricStats:
        """Plain mean of each field over several statistics (NaN when there are none)."""
        if not stats:
            return cls(float("nan"), float("nan"), float("nan"))
        return cls(
            mean=float(np.mean([s.mean for s in stats])),
            recall=float(np.mean([s.recall for s in stats])),
            decay=float(np.mean([s.decay for s in stats])),
        )

    def to_json(self) -> dict[str, float]:
        return {"mean": self.mean, "recall": self.recall, "decay": self.decay}


@dataclass(frozen=True)
class ObjectResult:
    """One object of one sequence: the frames it was scored on, per-frame J and F (0..1), statistics."""

    obj_id: int
    frames: tuple[str, ...]
    j_per_frame: tuple[float, ...]
    f_per_frame: tuple[float, ...]
    j: MetricStats
    f: MetricStats

    @classmethod
    def from_frames(
        cls, obj_id: int, frames: list[str], j_values: list[float], f_values: list[float]
    ) -> ObjectResult:
        return cls(
            obj_id=obj_id,
            frames=tuple(frames),
            j_per_frame=tuple(j_values),
            f_per_frame=tuple(f_values),
            j=MetricStats.from_frames(tuple(j_values)),
            f=MetricStats.from_frames(tuple(f_values)),
        )

    @property
    def jf(self) -> float:
        return (self.j.mean + self.f.mean) / 2

    def to_json(self) -> dict[str, dict[str, float]]:
        return {"J": self.j.to_json(), "F": self.f.to_json()}


class _ObjectAverages:
    """J, F and J&F as DAVIS 2017 reports them: plain means over ``self.objects``."""

    objects: tuple[ObjectResult, ...] | list[ObjectResult]  # provided by the subclass

    @property
    def j_stats(self) -> MetricStats:
        return MetricStats.average([o.j for o in self.objects])

    @property
    def f_stats(self) -> MetricStats:
        return MetricStats.average([o.f for o in self.objects])

    @property
    def j(self) -> float:
        return self.j_stats.mean

    @property
    def f(self) -> float:
        return self.f_stats.mean

    @property
    def jf(self) -> float:
        return (self.j + self.f) / 2

    def _scores_json(self) -> dict:
        return {"J&F": self.jf, "J": self.j, "F": self.f}


@dataclass(frozen=True)
class SequenceResult(_ObjectAverages):
    """One sequence: its objects, in increasing id order; J and F are means over them."""

    name: str
    objects: tuple[ObjectResult, ...]

    def to_json(self) -> dict:
        return {**self._scores_json(), "objects": {str(o.obj_id): o.to_json() for o in self.objects}}


@dataclass(frozen=True)
class EvalResult(_ObjectAverages):
    """All evaluated sequences, in name order; global scores average over every object."""

    sequences: tuple[SequenceResult, ...]

    @property
    def objects(self) -> list[ObjectResult]:
        return [o for s in self.sequences for o in s.objects]

    def to_json(self) -> dict:
        return {**self._scores_json(), "sequences": {s.name: s.to_json() for s in self.sequences}}

    def write_json(self, path: str | os.PathLike) -> None:
        """Write ``to_json()`` to ``path`` (atomically, indented)."""
        write_text_atomic(path, json.dumps(self.to_json(), indent=2) + "\n")

    def format_table(self) -> str:
        """One aligned row per object of each sequence, then a global row (averages over objects)."""
        header = ["sequence", "obj", "J&F", "J-mean", "J-recall", "J-decay", "F-mean", "F-recall", "F-decay"]
        rows = [_row(s.name, str(o.obj_id), o.jf, o.j, o.f) for s in self.sequences for o in s.objects]
        rows.append(_row("global", "", self.jf, self.j_stats, self.f_stats))
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def fmt(cells: list[str]) -> str:
            first = cells[0].ljust(widths[0])
            rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
            return "  ".join([first, *rest])

        rule = "-" * len(fmt(header))
        return "\n".join([fmt(header), rule, *map(fmt, rows[:-1]), rule, fmt(rows[-1])])


def _row(name: str, obj: str, jf: float, j: MetricStats, f: MetricStats) -> list[str]:
    values = [jf, j.mean, j.recall, j.decay, f.mean, f.recall, f.decay]
    return [name, obj, *(f"{v:.1f}" for v in values)]
