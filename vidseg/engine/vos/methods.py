"""The methods a session can run, by name or checkpoint path, and their configuration.

``default`` is the shipped ``vos`` network (:mod:`vidseg.nn.registry`); ``flow`` and ``static`` are
baselines; any other value is taken as the path of a checkpoint from ``vidseg train vos``. The
networks themselves are loaded by the segmenter (:class:`vidseg.engine.segmenter.VideoSegmenter`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vidseg.engine.propagator import Propagator
from vidseg.engine.vos.flow_propagator import FlowPropagator
from vidseg.engine.vos.static_propagator import StaticPropagator
from vidseg.errors import InputError

if TYPE_CHECKING:
    from vidseg.engine.vos.presets import PropagatorConfig

BASELINES: dict[str, Callable[[], Propagator]] = {"flow": FlowPropagator, "static": StaticPropagator}


def method_names() -> list[str]:
    """The named methods (a checkpoint path is accepted too)."""
    return ["default", *sorted(BASELINES)]


def weights_for(name: str) -> Path | None:
    """The ``vos`` checkpoint a method name stands for, or None for a baseline."""
    if name in BASELINES:
        return None
    if name == "default":
        from vidseg.nn.registry import shipped_path

        path = shipped_path("vos")
        if not path.is_file():
            raise InputError(f"the default model is missing ({path}); reinstall vidseg, "
                             "train one with 'vidseg train vos', or use --method flow")
        return path
    path = Path(name)
    if path.suffix != ".pt" and not path.exists():
        raise InputError(f"unknown method {name!r}; choose one of: {', '.join(method_names())}, or a .pt checkpoint")
    return path


def network_config(name: str, preset: str = "fast", adapt: bool | None = None, fusion: bool | None = None,
                   config: PropagatorConfig | None = None, refind: bool | None = None) -> PropagatorConfig | None:
    """The network method's configuration for method ``name``, or None for a baseline (which takes
    no settings, and needs no torch). config: a full network configuration instead of the preset
    (the switches still apply)."""
    if weights_for(name) is None:
        if refind:
            raise InputError(f"re-finding lost objects needs the network method, not the {name} baseline; "
                             "drop --refind or use --method default")
        return None
    from vidseg.engine.vos.presets import preset_config, with_switches

    return with_switches(preset_config(preset) if config is None else config, adapt=adapt, fusion=fusion,
                         refind=refind)
