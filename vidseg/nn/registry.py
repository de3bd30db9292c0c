"""The one table of vidseg's networks, and the only place that builds them.

Each entry names a network class, its config class, the checkpoints shipped in ``vidseg/weights``
(with their sha256) and the model card beside them. The same name is used everywhere: the
``arch`` of a checkpoint, ``vidseg train NAME``, the model card's file name.

- :func:`list_models` lists the names;
- :func:`create_model` builds a fresh network (for training) from a config or the default one;
- :func:`load_model` loads shipped weights (``"default"``, ``"train-split"``, ...) or a checkpoint file
  strictly, checks the sha256 of shipped files, returns the network in eval mode, and loads each
  file once per process (the network is shared: callers never train or modify it in place).

Nothing else constructs a network from a checkpoint.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import torch
from torch import nn

from vidseg.errors import InputError
from vidseg.nn.checkpoint import read_checkpoint, save_checkpoint
from vidseg.nn.interactive import InteractiveNet, InteractiveNetConfig
from vidseg.nn.polar import PolarTrackerConfig, PolarTrackerNet
from vidseg.nn.propagation import PropagationNet, PropagationNetConfig

# Checkpoints written before the registry named the VOS network after its module.
_OLD_NAMES = {"propagation": "vos"}


@dataclass(frozen=True)
class ShippedWeights:
    """A checkpoint file in ``vidseg/weights`` and the sha256 of its bytes."""

    file: str
    sha256: str


@dataclass(frozen=True)
class ModelEntry:
    """One row of the table: what the name builds and what ships for it."""

    name: str
    network: type[nn.Module]
    config: type
    card: str
    weights: dict[str, ShippedWeights] = field(default_factory=dict)
    trained_by: str = ""


_TABLE = (
    ModelEntry("vos", PropagationNet, PropagationNetConfig, card="vos.card.md", trained_by="vidseg train vos",
               weights={"default": ShippedWeights("vos.pt", "8de49cb29272d69ce19e1c533f34fc5484bd5711bae86e73f278e01eac4633b0"),
                        # The default's recipe on our training split only: the validation table's network.
                        "train-split": ShippedWeights(
                            "vos-train-split.pt", "e217d90062a00fafa15c0e6ae419979e4c038d827bc3d1132fe70641a97b3e5e"),
                        # The previous default, learnt from scratch: faster, less accurate (its card).
                        "separable": ShippedWeights(
                            "vos-separable.pt", "f705e2c7af4439b28351d30e4ad56f8f30dc82db90ab64646912ed6859bc2970"),
                        "separable-train-split": ShippedWeights(
                            "vos-separable-train-split.pt",
                            "148c04147980451bb1ab93a2946f7b846b07953c453ca688d1f62ae8ed69b098")}),
    ModelEntry("interactive", InteractiveNet, InteractiveNetConfig, card="interactive.card.md",
               trained_by="vidseg train interactive",
               weights={"default": ShippedWeights(
                            "interactive.pt", "d5c1033a68df23ada6394dabfc8ca663618fbf65b4834f4ae0e1c6ab2c12b55b"),
                        # The default's recipe on our training split and training photos: the validation tables' network.
                        "train-split": ShippedWeights(
                            "interactive-train-split.pt",
                            "87f24f1bd0e178021a51cd37ee4027dfa5b9762265518c1938654d31b8299ad8"),
                        # The previous default, learnt from scratch on the training split (its card).
                        "separable": ShippedWeights(
                            "interactive-separable.pt",
                            "b70ad5dec98cb4719f52c1d772c4bb19225712d23b49a0ff68445bcc467c62b3")}),
    ModelEntry("tracker", PolarTrackerNet, PolarTrackerConfig, card="tracker.card.md",
               trained_by="vidseg train tracker",
               weights={"default": ShippedWeights("tracker.pt", "e6d9d80cd4bc9da6d60fe01776dbc9803839281f02467be390eab364a3dff980"),
                        # The default's recipe on our training split and training photos: the validation tables' network.
                        "train-split": ShippedWeights(
                            "tracker-train-split.pt", "55bebd6731e5fad07f340e5ca08c6ae4e2f3fe7d17c3f61b82b41e7a2f1f4890"),
                        # The previous default, learnt from scratch on the training split (its card).
                        "separable": ShippedWeights(
                            "tracker-separable.pt", "a5c588bf15446d1a72eb1bf401b76c0a09a08d18229d510690c398b4c3a32dfb")}),
)
REGISTRY: dict[str, ModelEntry] = {entry.name: entry for entry in _TABLE}


def list_models() -> list[str]:
    return sorted(REGISTRY)


def entry(name: str) -> ModelEntry:
    if name not in REGISTRY:
        raise InputError(f"no model named {name!r}; the models are: {', '.join(list_models())}")
    return REGISTRY[name]


def weights_dir() -> Path:
    return Path(str(resources.files("vidseg") / "weights"))


def shipped_path(name: str, tag: str = "default") -> Path:
    """Where the shipped ``tag`` weights of ``name`` lie (they may be missing after a broken install)."""
    return weights_dir() / entry(name).weights[tag].file


def card_path(name: str) -> Path:
    return weights_dir() / entry(name).card


def create_model(name: str, config: object | None = None) -> nn.Module:
    """A fresh ``name`` network in training mode, from ``config`` (default: the config class's defaults)."""
    spec = entry(name)
    if config is None:
        config = spec.config()
    if not isinstance(config, spec.config):
        raise TypeError(f"{name} takes a {spec.config.__name__}, got {type(config).__name__}")
    return spec.network(config)


def load_model(name: str, weights: str | os.PathLike = "default", backend: str = "torch") -> nn.Module:
    """The ``name`` network with ``weights`` (a shipped tag such as "default", or a checkpoint path),
    in eval mode, loaded once per process. ``backend`` "onnxruntime": the same network run by ONNX
    Runtime (:mod:`vidseg.nn.onnx_runtime`; the same methods, built once per process and thread count);
    "auto": that where the ``onnx`` extra is installed, else torch."""
    return as_backend(name, _load_torch(name, weights), backend)


def _load_torch(name: str, weights: str | os.PathLike) -> nn.Module:
    spec = entry(name)
    if isinstance(weights, str) and weights in spec.weights:
        return _load_shipped(name, weights)
    path = Path(weights)
    if path.suffix != ".pt" and not path.exists():
        tags = ", ".join(repr(t) for t in spec.weights)
        raise InputError(f"{weights!s} is neither shipped {name} weights ({tags}) nor a .pt checkpoint")
    return _load_file(name, str(path.resolve()), _stamp(path))


def as_backend(name: str, net: nn.Module, backend: str = "torch"):
    """``net`` (a ``name`` network) run by ``backend``: itself for "torch"; for "onnxruntime" its
    ONNX Runtime stand-in (:mod:`vidseg.nn.onnx_runtime`), built once per network and thread count;
    "auto": ONNX Runtime where the ``onnx`` extra is installed, else torch."""
    from vidseg.nn.onnx_runtime import BACKENDS, resolve_backend  # torch-only: no onnx import here

    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    backend = resolve_backend(backend)
    if backend == "torch" or not isinstance(net, nn.Module):
        return net
    return _onnx_cached(name, net, torch.get_num_threads())


@functools.lru_cache(maxsize=8)
def _onnx_cached(name: str, torch_net: nn.Module, threads: int):
    from vidseg.nn.onnx_runtime import onnx_network

    return onnx_network(name, torch_net)


def load_with_meta(name: str, path: str | os.PathLike) -> tuple[nn.Module, dict]:
    """A checkpoint file's network (eval mode, not cached) and how it was trained (``meta``)."""
    payload = read_checkpoint(path)
    return _build(name, payload, path), payload.get("meta", {})


def save_model(path: str | os.PathLike, name: str, model: nn.Module, meta: dict | None = None,
               storage: torch.dtype = torch.float32) -> None:
    """Write ``model`` as a ``name`` checkpoint (atomically), floating weights as ``storage``."""
    entry(name)
    save_checkpoint(path, name, model, meta, storage)


@functools.lru_cache(maxsize=16)
def _load_shipped(name: str, tag: str) -> nn.Module:
    shipped = REGISTRY[name].weights[tag]
    path = shipped_path(name, tag)
    if not path.is_file():
        raise InputError(f"the shipped {name} weights {path} are missing; reinstall vidseg, or train them "
                         f"with '{REGISTRY[name].trained_by}' and pass the file")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != shipped.sha256:
        raise InputError(f"the shipped {name} weights {path} are damaged (sha256 {digest[:12]}..., expected "
                         f"{shipped.sha256[:12]}...); reinstall vidseg")
    return _build(name, read_checkpoint(path), path)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)  # read_checkpoint says what is wrong
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=16)
def _load_file(name: str, path: str, stamp: tuple[int, int]) -> nn.Module:
    """Cached by path and (mtime, size), so a checkpoint rewritten by training is read again."""
    return _build(name, read_checkpoint(path), path)


def _build(name: str, payload: dict, path: str | os.PathLike) -> nn.Module:
    held = _OLD_NAMES.get(payload["arch"], payload["arch"])
    if held != name:
        raise InputError(f"checkpoint {path} holds a {held!r} network, but a {name!r} one is needed here; "
                         f"train one with '{REGISTRY[name].trained_by}'")
    spec = REGISTRY[name]
    try:
        model = spec.network(spec.config.from_dict(payload["config"]))
        model.load_state_dict(payload["state_dict"], strict=True)
    except (TypeError, ValueError, RuntimeError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise InputError(f"checkpoint {path} does not fit this version's {name!r} network ({first_line}); "
                         "retrain it with this version") from None
    return model.eval()
