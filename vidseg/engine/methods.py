"""The registry of propagation methods that a session can run, by name."""

from __future__ import annotations

from collections.abc import Callable

from vidseg.engine.flow_propagator import FlowPropagator
from vidseg.engine.propagator import Propagator
from vidseg.engine.static_propagator import StaticPropagator
from vidseg.errors import InputError

# "default" names what a user gets without choosing; it moves to the trained network once one ships.
_ALIASES = {"default": "flow"}
_BUILDERS: dict[str, Callable[[], Propagator]] = {"flow": FlowPropagator, "static": StaticPropagator}


def method_names() -> list[str]:
    """Every name ``build_propagator`` accepts, aliases included."""
    return sorted({*_BUILDERS, *_ALIASES})


def resolve_method(name: str) -> str:
    """Alias -> method name; unknown names raise InputError listing the valid ones."""
    resolved = _ALIASES.get(name, name)
    if resolved not in _BUILDERS:
        raise InputError(f"unknown method {name!r}; choose one of: {', '.join(method_names())}")
    return resolved


def build_propagator(name: str) -> Propagator:
    return _BUILDERS[resolve_method(name)]()
