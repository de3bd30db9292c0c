"""Checkpoints that carry their config, and the one factory that builds models from them.

A checkpoint is a dict: ``format``, ``arch`` (which network), ``config`` (its typed config as a
dict), ``state_dict`` and ``meta`` (how it was trained). Loading is strict: a file of another
architecture, a truncated file or mismatched weights is refused with a message that says what to do.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from vidseg.errors import InputError
from vidseg.io.atomic import atomic_path

FORMAT = "vidseg-checkpoint-1"


def _architectures() -> dict[str, tuple[type, Callable[[dict], object]]]:
    from vidseg.nn.interactive import InteractiveNet, InteractiveNetConfig
    from vidseg.nn.polar import PolarTrackerConfig, PolarTrackerNet
    from vidseg.nn.propagation import PropagationNet, PropagationNetConfig

    return {"propagation": (PropagationNet, PropagationNetConfig.from_dict),
            "interactive": (InteractiveNet, InteractiveNetConfig.from_dict),
            "tracker": (PolarTrackerNet, PolarTrackerConfig.from_dict)}


def save_checkpoint(path: str | os.PathLike, arch: str, model: nn.Module, meta: dict | None = None) -> None:
    """Write ``model`` (with ``model.config``) to ``path`` atomically, weights as float32."""
    payload = {
        "format": FORMAT,
        "arch": arch,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().float().clone() if v.is_floating_point() else v.clone()
                       for k, v in model.state_dict().items()},
        "meta": meta or {},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint dict at ``path``; InputError when it is missing, truncated or not ours."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint {path} does not exist; give the path of a .pt file written by 'vidseg train'")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    # KeyError and ValueError too: what torch.load raises for bytes that are not a torch file at all.
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise InputError(f"checkpoint {path} is truncated or not a vidseg checkpoint ({error.__class__.__name__}); "
                         "train it again or use the shipped default") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputError(f"{path} is not a vidseg checkpoint (expected format {FORMAT}); train one with 'vidseg train'")
    return payload


def load_model(path: str | os.PathLike, arch: str) -> tuple[nn.Module, dict]:
    """Build the ``arch`` network from the checkpoint at ``path``; returns (model in eval mode, meta)."""
    payload = read_checkpoint(path)
    if payload["arch"] != arch:
        raise InputError(f"checkpoint {path} holds a {payload['arch']!r} network, but a {arch!r} one is needed here")
    model_class, config_from_dict = _architectures()[arch]
    try:
        model = model_class(config_from_dict(payload["config"]))
        model.load_state_dict(payload["state_dict"], strict=True)
    except (TypeError, RuntimeError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise InputError(f"checkpoint {path} does not fit this version's {arch!r} network ({first_line}); "
                         "retrain it with this version") from None
    return model.eval(), payload.get("meta", {})
