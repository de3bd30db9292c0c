"""Named settings of the network method: ``fast`` (the default) and ``quality``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from vidseg.engine.vos.adapt import AdaptConfig
from vidseg.engine.vos.memory_policy import MemoryConfig
from vidseg.engine.vos.redetect import RedetectConfig
from vidseg.errors import InputError
from vidseg.flow.fusion import FusionConfig


@dataclass(frozen=True)
class PropagatorConfig:
    """internal_height: frames are resized so their height is about this (sides multiples of 16);
    the masks come back at full resolution by ``upsample``: "bilinear", or "guided" (a guided
    filter with radius, eps that follows the frame's edges). fusion: None turns flow off entirely (the previous mask is then the prior
    as it stands). refind: None, or how lost objects are found again with the polar tracker
    (:mod:`vidseg.engine.vos.redetect`). mirror: each frame is also segmented mirrored left to right,
    against a memory of mirrored frames, and the two results averaged (test-time augmentation:
    about twice the network's time per frame)."""

    internal_height: int = 240
    upsample: str = "bilinear"  # or "guided"
    guided_radius: int = 2
    guided_eps: float = 1e-4
    fusion: FusionConfig | None = field(default_factory=FusionConfig)
    adapt: AdaptConfig = field(default_factory=AdaptConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    refind: RedetectConfig | None = None
    mirror: bool = False


# Chosen with the EfficientNet-Lite0 network on 12 clips of our training split
# (benchmarks/tune_on_train_split.py; validation untouched): online adaptation (-4.1 J&F) and the
# preset frame (-0.7) lowered J&F there, so both are off by default (--adapt turns adaptation on).
# Re-checked with a network that never saw the clips (trained on FIT, scored on TUNE): adaptation
# -6.7 (fast) and -5.2 (quality), wrecking two of six clips; the preset frame -0.3 / +0.2.
# The internal height matters most: fast 88.6 at 224 px, 89.3 at 240, 90.4 at 288; quality 89.9 at
# 240, 91.0 at 288, 91.5 at 336. Matching costs grow with the square of the pixels, so the heights
# are the largest that keep each preset's speed (benchmarks/internal_size.py, idle 2-core machine):
# fast 20.0 FPS at 224, 14.3 at 256, 9.8 at 288 (target >= 12); quality 5.4 at 336 (target >= 3).
# Mirroring (FIT network on TUNE): quality 80.8 -> 82.3 at 336 px (no clip lower), 82.1 at 320, 82.0
# at 304, 80.8 at 288; fast 77.4 -> 79.8, which it cannot afford. Mirrored, 336 px ran at 2.6-2.7 FPS
# (end to end, boat and bear), 320 px at 3.6-4.3, 304 px at 4.8-6.3 (this VM's runs vary by ~20%):
# so quality mirrors at 304 px.
_NO_PRESET_FRAME = MemoryConfig(preset_frame=False)
PRESETS: dict[str, PropagatorConfig] = {
    "fast": PropagatorConfig(internal_height=256, fusion=FusionConfig(flow_mode="fast"),
                          adapt=AdaptConfig(enabled=False, every=0), memory=_NO_PRESET_FRAME),
    "quality": PropagatorConfig(internal_height=304, fusion=FusionConfig(flow_mode="medium"),
                             adapt=AdaptConfig(enabled=False, every=0), memory=_NO_PRESET_FRAME, mirror=True),
}


def preset_config(name: str, adapt: bool | None = None, fusion: bool | None = None,
                  refind: bool | None = None) -> PropagatorConfig:
    """The named preset, with adaptation, fusion and re-finding switched on or off when given."""
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return with_switches(PRESETS[name], adapt=adapt, fusion=fusion, refind=refind)


def with_switches(config: PropagatorConfig, adapt: bool | None = None, fusion: bool | None = None,
                  refind: bool | None = None) -> PropagatorConfig:
    """``config`` with adaptation, fusion and re-finding switched on or off; None leaves a switch as it is."""
    if adapt is not None:
        config = replace(config, adapt=replace(config.adapt, enabled=adapt))
    if fusion is not None:
        config = replace(config, fusion=(config.fusion or FusionConfig()) if fusion else None)
    if refind is not None:
        config = replace(config, refind=(config.refind or RedetectConfig()) if refind else None)
    return config
