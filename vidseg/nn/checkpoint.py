"""The checkpoint file: a network's weights with the config that builds it.

A checkpoint is a dict: ``format``, ``arch`` (the model's name in :mod:`vidseg.nn.registry`),
``config`` (its typed config as a dict), ``state_dict`` and ``meta`` (how it was trained). Reading is
strict: a missing, truncated or foreign file is refused with a message that says what to do; the
registry builds the network from what is read.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from vidseg.errors import InputError
from vidseg.io.atomic import atomic_path

FORMAT = "vidseg-checkpoint-1"


def save_checkpoint(path: str | os.PathLike, arch: str, model: nn.Module, meta: dict | None = None,
                    storage: torch.dtype = torch.float32) -> None:
    """Write ``model`` (with ``model.config``) to ``path`` atomically, floating weights stored as
    ``storage``: float32, or float16 for shipped files (half the bytes; loading casts them back to
    the network's float32)."""
    payload = {
        "format": FORMAT,
        "arch": arch,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().to(storage).clone() if v.is_floating_point() else v.clone()
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
