"""The encoders a network config may name, without importing torch (the CLI builds its options from them)."""

from __future__ import annotations

LITE_VARIANTS = ("lite0", "lite1", "lite2")  # EfficientNet-Lite, ImageNet-initialised for training
ENCODERS = ("separable", *LITE_VARIANTS)  # "separable": the backbone learnt from scratch


def check_encoder(name: str) -> None:
    """ValueError unless ``name`` is "separable" (a backbone learnt from scratch) or a Lite variant."""
    if name not in ENCODERS:
        raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {name!r}")
