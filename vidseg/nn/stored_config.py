"""The one way a network's configuration goes into a checkpoint and comes back out."""

from __future__ import annotations

from dataclasses import asdict
from typing import Self


class StoredConfig:
    """Mixin for a network's config dataclass: ``to_dict`` for checkpoints and training state,
    ``from_dict`` back (a tuple field stored as a list comes back a tuple, so configs compare equal)."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Self:
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in data.items()})
