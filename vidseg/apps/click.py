"""``vidseg click`` as a function: one image, a box or a point, then correction clicks -> a mask.

Every input and output is checked before the model is loaded, and the outputs are written only
once every mask is made, all of them or none (:func:`vidseg.io.atomic.atomic_paths`), so a mistake
leaves no output file behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidseg.apps.prompts import warn_if_outside
from vidseg.engine.interactive.clicks import Click, check_click
from vidseg.errors import InputError, OutputError
from vidseg.io.atomic import atomic_paths
from vidseg.io.frames import read_rgb
from vidseg.io.masks import index_image, read_mask, save_png
from vidseg.io.outputs import Output, check_outputs
from vidseg.ops.boxes import Box, check_box


@dataclass(frozen=True)
class ClickJob:
    """image: the picture to cut from. box (x0, y0, x1, y1; x1, y1 exclusive) or point (x, y):
    the selection, exactly one of them. clicks: corrections in order. out: index PNG, the object
    as ``obj_id``. add: ``out`` is an existing index PNG of the image whose other objects stay (the
    new object is painted over them; its old pixels elsewhere are cleared). cutout: optional RGBA
    PNG. model: a shipped tag ("default", ...) or a checkpoint path. overwrite: replace existing output files."""

    image: Path
    out: Path
    box: Box | None = None
    point: tuple[float, float] | None = None
    clicks: tuple[tuple[float, float, bool], ...] = ()  # (x, y, positive)
    cutout: Path | None = None
    model: str | Path = "default"
    overwrite: bool = False
    backend: str = "auto"  # "torch", "onnxruntime", or "auto": ONNX Runtime where installed
    obj_id: int = 1
    add: bool = False


@dataclass(frozen=True)
class ClickStep:
    """One mask the job made: what made it ("box 1,2,3,4", "click 5,6,+"), its area in pixels and
    the seconds it took (the model's loading excluded)."""

    what: str
    area: int
    seconds: float


@dataclass(frozen=True)
class ClickReport:
    steps: tuple[ClickStep, ...]
    width: int
    height: int

    @property
    def area(self) -> int:
        return self.steps[-1].area

    def lines(self) -> list[str]:
        """One line per mask (the first from the selection, then one per click), then the total."""
        first, *rest = self.steps
        out = [f"first mask ({first.what}): {first.area} px in {first.seconds * 1000:.0f} ms"]
        out += [f"{s.what}: {s.area} px in {s.seconds * 1000:.0f} ms" for s in rest]
        share = 100.0 * self.area / (self.width * self.height)
        out.append(f"mask area: {self.area} px ({share:.1f}% of {self.width}x{self.height})")
        return out


def parse_point(text: str) -> tuple[float, float]:
    """``"x,y"`` -> two numbers; InputError if it is not."""
    return tuple(parse_numbers(text, 2, "--point", "x,y"))  # type: ignore[return-value]


def parse_click(text: str) -> tuple[float, float, bool]:
    """``"x,y,+"`` (on the object) or ``"x,y,-"`` (off it) -> (x, y, positive)."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 3 or parts[2] not in ("+", "-"):
        raise InputError(f"--click {text!r} is not x,y,+ or x,y,-: a pixel, then + on the object or - off it")
    x, y = parse_numbers(",".join(parts[:2]), 2, "--click", "x,y,+ or x,y,-")
    return x, y, parts[2] == "+"


def parse_numbers(text: str, count: int, flag: str, form: str) -> list[float]:
    """``count`` finite numbers separated by commas (the value of option ``flag``, shaped ``form``);
    InputError if it is not."""
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count or not all(np.isfinite(values)):
        raise InputError(f"{flag} {text!r} is not {form}: give {count} numbers in pixels, separated by commas")
    return values


def run_click(job: ClickJob) -> ClickReport:
    """Segment ``job.image`` from its selection and clicks; write the mask (and the cut-out)."""
    check_click_job(job)
    image = read_rgb(job.image)
    height, width = image.shape[:2]
    clicks = _check_inputs(job, width, height)
    labels, palette = _existing_labels(job, height, width)

    from vidseg.engine.interactive.click_segmenter import ClickSegmenter  # torch: only once the inputs are good

    segmenter = ClickSegmenter(job.model, backend=job.backend)
    steps = [_timed(f"box {job.box}" if job.box else f"point {_fmt(job.point)}",
                    lambda: segmenter.start(image, box=job.box, click=job.point))]
    for c in clicks:
        steps.append(_timed(f"click {c.x},{c.y},{'+' if c.positive else '-'}",
                            lambda c=c: segmenter.click(c.x, c.y, c.positive)))
    labels[labels == job.obj_id] = 0
    labels[segmenter.mask] = job.obj_id
    _write_outputs(job, labels, palette, segmenter.cutout() if job.cutout else None)
    return ClickReport(tuple(steps), width, height)


def check_click_job(job: ClickJob) -> None:
    """What can be checked before the image is read: one selection, and outputs that are not
    the image, the model or each other, not existing files without ``overwrite``, writable."""
    if (job.box is None) == (job.point is None):
        raise InputError("give the object either by --box x0,y0,x1,y1 or by --point x,y (one of them)")
    if not 1 <= job.obj_id <= 255:
        raise InputError(f"--id is {job.obj_id}; object ids are 1..255")
    if job.add and not job.out.is_file():
        raise InputError(f"--add paints the object into the index PNG -o {job.out}, which does not exist; "
                         "leave out --add to write a new one")
    from vidseg.nn.registry import REGISTRY

    model = None if str(job.model) in REGISTRY["interactive"].weights else Path(job.model)
    # With --add, -o is meant to be replaced: it is read first and written back whole, atomically.
    check_outputs([Output(job.out, "-o"), None if job.cutout is None else Output(job.cutout, "--cutout")],
                  inputs=[job.image, model], overwrite=job.overwrite or job.add)


def _check_inputs(job: ClickJob, width: int, height: int) -> list[Click]:
    """The clicks at whole pixels; InputError for a selection or click outside the image, raised
    before any model is loaded."""
    if job.box is not None:
        warn_if_outside(check_box(job.box, width, height), width, height, "--box")
    else:
        check_click(job.point[0], job.point[1], width, height)
    return [Click(*check_click(x, y, width, height), positive) for x, y, positive in job.clicks]


def _existing_labels(job: ClickJob, height: int, width: int) -> tuple[np.ndarray, bytes | None]:
    """The labels the object is painted into (H, W) uint8, and their palette: ``job.out``'s with
    ``add``, else empty ones."""
    if not job.add:
        return np.zeros((height, width), np.uint8), None
    existing = read_mask(job.out)
    if existing.labels.shape != (height, width):
        raise InputError(f"--add: {job.out} is {existing.labels.shape[1]}x{existing.labels.shape[0]} but the "
                         f"image is {width}x{height}; give the mask of this image")
    return existing.labels.copy(), existing.palette


def _timed(what: str, make_mask) -> ClickStep:
    started = time.perf_counter()
    mask = make_mask()
    return ClickStep(what, int(mask.sum()), time.perf_counter() - started)


def _write_outputs(job: ClickJob, labels: np.ndarray, palette: bytes | None, cutout: np.ndarray | None) -> None:
    """The labels and the cut-out, both or neither: each is encoded into a temporary file first,
    and the renames are undone if one fails (a read-only folder, a full disk)."""
    from PIL import Image

    images = [index_image(labels, palette)]
    targets = [job.out]
    if cutout is not None:
        images.append(Image.fromarray(cutout))  # (H, W, 4) uint8: RGBA
        targets.append(job.cutout)
    try:
        with atomic_paths(targets) as temps:
            for image, tmp in zip(images, temps):
                save_png(image, tmp)
    except OSError as error:
        raise OutputError(f"cannot write {' and '.join(map(str, targets))} ({error}); nothing was written; "
                          "check that the folders are writable") from error


def _fmt(values) -> str:
    return ",".join(f"{v:g}" for v in values)
