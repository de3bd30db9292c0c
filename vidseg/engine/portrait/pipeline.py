"""Portrait mode: a person mask on every frame, without any prompt, steadied by optical-flow fusion.

A per-frame person model (MediaPipe's selfie segmenter, :mod:`vidseg.engine.portrait.selfie`) gives each
frame a person probability, seed 001's "mask 2". :class:`PortraitPipeline` carries the previous
fused result into the frame by block flow and mixes the two with the fusion stage of
``vidseg segment`` (:class:`vidseg.flow.fusion.FlowFusion`, one implementation), which removes
most of the model's frame-to-frame flicker.

For speed the fusion runs at a reduced working size (``work_height``, 240 px by default: the
model itself sees 144x256 or 256x256 pixels, so little is lost) and only its *correction* is
upsampled and added to the model's full-resolution map: where fusion changes nothing, the output
is exactly the model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from vidseg.errors import InputError
from vidseg.flow.fusion import FlowFusion, FusionConfig

# Chosen with benchmarks/tune_portrait_fusion.py on half of the person sequences (the other half
# unseen): DIS "ultrafast" on the 240-px working frame itself, one vector per 4x4 block (8x8 pixels
# of a 480p frame). The person model flips whole regions with some confidence, so mask 3 keeps a
# say there too (confidence_power 0.5). No occlusion check: on these frames it marked so much as
# occluded that fusion hardly acted (flicker -17% with it, -34% without; J +0.4 either way), and
# it cost a second flow field.
PORTRAIT_FUSION = FusionConfig(flow_mode="ultrafast", scale=1.0, block=4, occlusion=False, confidence_power=0.5)


class PersonModel(Protocol):
    """A per-frame person segmenter: (H, W, 3) uint8 RGB -> (H, W) float32 probability in [0, 1]."""

    def __call__(self, frame: np.ndarray) -> np.ndarray: ...

    def close(self) -> None: ...


def load_person_model(name: str = "landscape") -> PersonModel:
    """The shipped person model by name: MediaPipe's selfie segmenter, "landscape" or "general".

    InputError with the install command when the ``vidseg[portrait]`` extra is missing."""
    from vidseg.engine.portrait.selfie import SelfieSegmenter

    return SelfieSegmenter(name)


@dataclass(frozen=True)
class PortraitConfig:
    """fusion: steady the masks with flow fusion (False: the model's masks as they are).
    flow: the fusion stage's settings, applied at the working size.
    work_height: frames taller than this are fused at this height (0: at full size).
    threshold: person probability at and above which a pixel is in the mask.
    """

    fusion: bool = True
    flow: FusionConfig = field(default_factory=lambda: PORTRAIT_FUSION)
    work_height: int = 240
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.work_height < 0:
            raise InputError(f"work_height must be >= 0, got {self.work_height}")
        if not 0.0 < self.threshold < 1.0:
            raise InputError(f"threshold must be in (0, 1), got {self.threshold}")


@dataclass(frozen=True)
class PortraitFrame:
    """raw: (H, W) float32, the model's person probability; person: the same after fusion (the
    model's own map with fusion off). mask: (H, W) uint8, 1 on the person, 0 elsewhere."""

    raw: np.ndarray
    person: np.ndarray
    threshold: float = 0.5

    @property
    def mask(self) -> np.ndarray:
        return (self.person >= self.threshold).astype(np.uint8)


class PortraitPipeline:
    """Per-video state of portrait mode. ``step(frame)`` for each frame in order; ``reset()``
    between videos (or after a cut). Closing it closes the model."""

    def __init__(self, model: PersonModel, config: PortraitConfig | None = None) -> None:
        self.model = model
        self.config = config or PortraitConfig()
        self._fusion = FlowFusion(self.config.flow) if self.config.fusion else None
        self._shape: tuple[int, int] | None = None

    def reset(self) -> None:
        self._shape = None
        if self._fusion is not None:
            self._fusion.reset()

    def step(self, frame: np.ndarray) -> PortraitFrame:
        """frame: (H, W, 3) uint8 RGB, the next frame of the video."""
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InputError(f"frames must be (H, W, 3) uint8 RGB, got {frame.dtype} {frame.shape}")
        if self._shape is not None and frame.shape[:2] != self._shape:
            raise InputError(f"frame size changed from {self._shape} to {frame.shape[:2]}; call reset() for a new video")
        self._shape = frame.shape[:2]
        raw = np.asarray(self.model(frame), dtype=np.float32)
        if raw.shape != frame.shape[:2]:
            raise ValueError(f"the person model returned shape {raw.shape} for a frame of {frame.shape[:2]}")
        if self._fusion is None:
            return PortraitFrame(raw, raw, self.config.threshold)
        return PortraitFrame(raw, self._fuse(frame, raw), self.config.threshold)

    def _fuse(self, frame: np.ndarray, raw: np.ndarray) -> np.ndarray:
        import cv2

        height, width = raw.shape
        work = self.config.work_height
        scaled = 0 < work < height
        if scaled:
            size = (max(1, round(width * work / height)), work)
            small_frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            small_raw = cv2.resize(raw, size, interpolation=cv2.INTER_AREA)
        else:
            small_frame, small_raw = frame, raw
        probs = np.stack([1.0 - small_raw, small_raw])
        if self._fusion.has_previous:
            probs = self._fusion.fuse(probs, self._fusion.warp_previous(small_frame))
        self._fusion.update(small_frame, probs)
        if not scaled:
            return probs[1]
        correction = cv2.resize(probs[1] - small_raw, (width, height), interpolation=cv2.INTER_LINEAR)
        return np.clip(raw + correction, 0.0, 1.0)

    def close(self) -> None:
        self.model.close()

    def __enter__(self) -> PortraitPipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
