"""Procedural colour textures for synthetic scenes: fractal noise mapped through colour ramps.

Every function takes a ``numpy.random.Generator`` so that a scene is reproducible from its seed.
Colours are float32 RGB in 0..255; values are float32 in 0..1.
"""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

TEXTURE_KINDS = ("mottled", "marble", "spots")


def fractal_noise(rng: np.random.Generator, height: int, width: int, cell: float, octaves: int = 4) -> np.ndarray:
    """Smooth multi-octave value noise, ``(height, width)`` float32 rescaled to 0..1.

    ``cell`` is the size in pixels of the coarsest octave's features; each octave halves it and
    weighs half as much, which gives the 1/f look of natural surfaces.
    """
    total = np.zeros((height, width), np.float32)
    weight = 1.0
    for _ in range(octaves):
        grid_h = max(2, int(np.ceil(height / cell)) + 1)
        grid_w = max(2, int(np.ceil(width / cell)) + 1)
        grid = rng.random((grid_h, grid_w), dtype=np.float32)
        total += weight * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        weight *= 0.5
        cell = max(cell / 2.0, 1.5)
    low, high = np.percentile(total, (1, 99))
    return np.clip((total - low) / max(high - low, 1e-6), 0.0, 1.0)


def colour_ramp(values: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Map ``values`` ``(H, W)`` in 0..1 through evenly spaced ``colours`` ``(n, 3)``; ``(H, W, 3)`` float32."""
    stops = np.linspace(0.0, 1.0, len(colours))
    levels = np.linspace(0.0, 1.0, 256)
    # A 256-entry table makes the lookup one gather instead of three interpolations per pixel.
    table = np.stack([np.interp(levels, stops, colours[:, c]) for c in range(3)], axis=1).astype(np.float32)
    return table[np.round(values * 255).astype(np.uint8)]


def hsv_colour(hue: float, saturation: float, value: float) -> np.ndarray:
    """One RGB colour ``(3,)`` float32 in 0..255 from HSV components in 0..1 (hue wraps)."""
    return np.array(colorsys.hsv_to_rgb(hue % 1.0, saturation, value), np.float32) * 255.0


def scene_palette(rng: np.random.Generator, base_hue: float, size: int = 6) -> np.ndarray:
    """``(size, 3)`` colours around one hue family, from dark to light, as a natural scene has."""
    hues = base_hue + rng.normal(0.0, 0.07, size)
    sats = rng.uniform(0.15, 0.65, size)
    vals = np.sort(rng.uniform(0.2, 0.92, size))
    return np.stack([hsv_colour(h, s, v) for h, s, v in zip(hues, sats, vals)])


def object_palette(rng: np.random.Generator, scene: np.ndarray, base_hue: float) -> np.ndarray:
    """``(4, 3)`` colours: two borrowed from the scene and two of the object's own.

    Borrowing scene colours is what keeps objects from being separable by colour alone.
    """
    borrowed = scene[rng.choice(len(scene), 2, replace=False)]
    accent_hue = base_hue + (rng.uniform(0.08, 0.4) * rng.choice([-1, 1]) if rng.random() < 0.5 else 0.0)
    own = np.stack([
        hsv_colour(accent_hue + rng.normal(0, 0.04), rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.9))
        for _ in range(2)
    ])
    colours = np.concatenate([borrowed, own])
    return colours[np.argsort(colours.sum(axis=1))]


def make_texture(rng: np.random.Generator, height: int, width: int, palette: np.ndarray,
                 cell: float, kind: str | None = None) -> np.ndarray:
    """A ``(height, width, 3)`` float32 texture of one of :data:`TEXTURE_KINDS` (random if None)."""
    kind = kind or TEXTURE_KINDS[rng.integers(len(TEXTURE_KINDS))]
    base = fractal_noise(rng, height, width, cell)
    if kind == "marble":
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        angle = rng.uniform(0, np.pi)
        freq = 2 * np.pi / rng.uniform(0.4, 1.0) / cell
        phase = (xx * np.cos(angle) + yy * np.sin(angle)) * freq + base * rng.uniform(4, 9)
        image = colour_ramp(0.5 + 0.5 * np.sin(phase), palette)
    elif kind == "spots":
        spots = fractal_noise(rng, height, width, cell / 3.0, octaves=2)
        weight = np.clip((spots - 0.55) / 0.12, 0.0, 1.0)[..., None]
        image = colour_ramp(base, palette[:-1]) * (1 - weight) + palette[-1] * weight
    else:
        image = colour_ramp(base, palette)
    # Fine grain stops flat regions from being trivially smooth, as real surfaces never are.
    grain = fractal_noise(rng, height, width, max(cell / 12.0, 2.0), octaves=2)
    return image * (0.88 + 0.24 * grain)[..., None]
