"""``vidseg export onnx OUT_DIR``: every shipped network as ONNX graphs, a manifest, and the model cards.

Each network is written as the parts the engine calls (:mod:`vidseg.nn.graphs`): VOS ``encode``,
``readout`` (the memory as explicit inputs), ``trunk`` and ``refine``; interactive ``lower`` and ``upper``;
tracker ``template`` and ``search``, one file ``<model>-<part>.onnx`` each. ``manifest.json`` names
every graph's inputs and outputs with their shapes (numbers, or names of run-time axes), the
network's config, the weights and the vidseg version. The folder is written beside its target and
renamed into place at the end, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vidseg.errors import InputError
from vidseg.nn.onnx_export import MANIFEST, OPSET, export_part, require_onnx

MODELS = ("vos", "interactive", "tracker")


@dataclass(frozen=True)
class ExportJob:
    """out_dir: a new or empty folder, or one holding an earlier export (replaced); models: registry
    names; weights: the shipped tag (or a checkpoint path when one model is exported)."""

    out_dir: Path
    models: tuple[str, ...] = MODELS
    weights: str = "default"


def run_export(job: ExportJob, progress=print) -> dict:
    """Export; returns the manifest written."""
    from vidseg import __version__
    from vidseg.nn.graphs import network_parts
    from vidseg.nn.registry import card_path, entry, load_model

    require_onnx()
    _check_target(job.out_dir)
    if len(job.models) > 1 and Path(job.weights).suffix == ".pt":
        raise InputError("a checkpoint path fits one network; give one --model with it")
    manifest = {"vidseg_version": __version__, "opset": OPSET, "batch": 1, "models": {}}
    job.out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{job.out_dir.name}.", dir=job.out_dir.parent) as tmp:
        for name in job.models:
            spec = entry(name)
            net = load_model(name, job.weights)
            graphs = {}
            for part in network_parts(name, net):
                graphs[part.name] = export_part(part, Path(tmp) / f"{name}-{part.name}.onnx")
                progress(f"{name} {part.name}: {graphs[part.name]['file']}")
            shutil.copyfile(card_path(name), Path(tmp) / spec.card)
            manifest["models"][name] = {"weights": str(job.weights), "card": spec.card,
                                        "config": net.config.to_dict(), "graphs": graphs}
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        Path(tmp).chmod(0o755)  # a temporary folder is private; the export is not
        if job.out_dir.exists():
            shutil.rmtree(job.out_dir)  # empty, or an earlier export (checked above)
        Path(tmp).rename(job.out_dir)
        Path(tmp).mkdir()  # for the context manager's clean-up
    return manifest


def _check_target(out_dir: Path) -> None:
    """A new folder, an empty one, or an earlier export (its manifest lists every file in it)."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} is a file; give a folder to export into")
    present = {p.name for p in out_dir.iterdir()}
    if not present:
        return
    ours: set[str] = set()
    try:
        old = json.loads((out_dir / MANIFEST).read_text())
        for model in old["models"].values():
            ours |= {model["card"], *(g["file"] for g in model["graphs"].values())}
        ours.add(MANIFEST)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    others = sorted(present - ours)
    if others:
        raise InputError(f"{out_dir} already holds other files ({', '.join(others[:3])}"
                         f"{', ...' if len(others) > 3 else ''}); give a new or empty folder")
