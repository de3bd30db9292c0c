"""Writing a network's parts (:mod:`vidseg.nn.graphs`) as ONNX graphs, checked by ONNX's checker.

Needs the ``onnx`` extra (``onnx`` and ``onnxruntime``). The graphs are traced by torch's
TorchScript-based exporter at opset 17, each part in eval mode with batch 1 (the engine's), its
run-time axes (frame size, memory length, search size) dynamic.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from pathlib import Path

import torch

from vidseg.errors import InputError
from vidseg.nn.graphs import NetworkPart

OPSET = 17
ONNX_EXTRA = 'the onnx extra: pip install -e ".[onnx]" (onnx, onnxruntime)'


def require_onnx() -> None:
    """InputError naming the extra when onnx or onnxruntime is missing."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as error:
        raise InputError(f"{error.name} is not installed; install {ONNX_EXTRA}") from None


def trace_part(part: NetworkPart, target: str | io.BytesIO) -> None:
    """Trace ``part`` into an ONNX graph written to ``target`` (a file path or an in-memory buffer)."""
    with warnings.catch_warnings():  # the tracer's notes on Python values it fixes: batch 1, by design
        warnings.simplefilter("ignore")
        torch.onnx.export(part.module.eval(), tuple(part.inputs.values()), target, dynamo=False,
                          input_names=list(part.inputs), output_names=list(part.outputs),
                          dynamic_axes=part.dynamic or None, opset_version=OPSET)


def export_part(part: NetworkPart, path: Path) -> dict:
    """Write ``part`` to ``path`` (.onnx), check it, and return its manifest entry: inputs and outputs
    with their shapes (a dimension is a number, or the name of a run-time axis)."""
    import onnx

    trace_part(part, str(path))
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    return {"file": path.name, "inputs": _shapes(model.graph.input), "outputs": _shapes(model.graph.output)}


def _shapes(values) -> dict[str, list[int | str]]:
    return {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in values}


MANIFEST = "manifest.json"


def read_manifest(folder: str | os.PathLike, version: str) -> dict:
    """The manifest of an export folder written by vidseg ``version`` (the running one); InputError
    otherwise (no manifest, not one of ours, or another version's: graphs and engine must match)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise InputError(f"{folder} holds no {MANIFEST}; export the networks with 'vidseg export onnx {folder}'")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path} is not a readable manifest ({error}); export again") from None
    written = manifest.get("vidseg_version") if isinstance(manifest, dict) else None
    if written != version:
        raise InputError(f"{path} was written by vidseg {written or '(unknown)'}, this is {version}; "
                         f"export again with this version: 'vidseg export onnx {folder}'")
    return manifest
