"""Irregular object outlines for synthetic scenes: smooth random blobs and rounded stars.

An outline is a radial profile: one radius per ray, ``RAYS`` rays evenly spaced in angle, the
largest radius 1. A slow per-harmonic wobble deforms it over time, so objects are not rigid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RAYS = 256
_ANGLES = np.linspace(0.0, 2.0 * np.pi, RAYS, endpoint=False)


@dataclass(frozen=True)
class Shape:
    """A deformable outline in object coordinates (unit = the largest rest radius).

    ``radii``: ``(RAYS,)`` float64, max 1. ``aspect``: y-axis squash in 0..1.
    ``wobble``: ``(n, 4)`` rows of (harmonic, amplitude, angular frequency per frame, phase).
    """

    radii: np.ndarray
    aspect: float
    wobble: np.ndarray


def _circular_smooth(values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of a periodic signal, by multiplying its spectrum."""
    freqs = np.fft.rfftfreq(len(values)) * len(values)
    return np.fft.irfft(np.fft.rfft(values) * np.exp(-0.5 * (freqs * sigma * 2 * np.pi / len(values)) ** 2),
                        n=len(values))


def _blob_radii(rng: np.random.Generator) -> np.ndarray:
    radii = np.ones(RAYS)
    for k in range(2, 7):
        radii += rng.uniform(0.0, 0.5) / k**0.8 * np.cos(k * _ANGLES + rng.uniform(0, 2 * np.pi))
    return radii


def _star_radii(rng: np.random.Generator) -> np.ndarray:
    points = int(rng.integers(4, 9))
    inner = rng.uniform(0.45, 0.75)
    vertex_angles = np.sort(np.arange(2 * points) * np.pi / points + rng.normal(0, 0.08, 2 * points))
    vertex_radii = np.where(np.arange(2 * points) % 2 == 0, 1.0, inner) * rng.uniform(0.85, 1.0, 2 * points)
    radii = np.interp(_ANGLES, vertex_angles, vertex_radii, period=2 * np.pi)
    # Rounds the tips and the notches: real objects have no infinitely sharp corners.
    return _circular_smooth(radii, sigma=RAYS / (points * 6.0))


def random_shape(rng: np.random.Generator) -> Shape:
    """A blob (60%) or a rounded star (40%) with a random squash and a slow wobble."""
    radii = _star_radii(rng) if rng.random() < 0.4 else _blob_radii(rng)
    radii = np.clip(radii, 0.2, None)
    wobble = np.stack([
        rng.integers(2, 5, 3).astype(float),
        rng.uniform(0.02, 0.06, 3),
        rng.uniform(0.04, 0.15, 3),
        rng.uniform(0, 2 * np.pi, 3),
    ], axis=1)
    return Shape(radii=radii / radii.max(), aspect=float(rng.uniform(0.65, 1.0)), wobble=wobble)


def outline(shape: Shape, frame: int) -> np.ndarray:
    """The outline at ``frame`` as ``(RAYS, 2)`` float64 (x, y) points in object coordinates."""
    radii = shape.radii.copy()
    for harmonic, amplitude, speed, phase in shape.wobble:
        radii *= 1.0 + amplitude * np.sin(speed * frame + phase) * np.cos(harmonic * _ANGLES + phase)
    return np.stack([radii * np.cos(_ANGLES), radii * shape.aspect * np.sin(_ANGLES)], axis=1)


def max_extent(shape: Shape) -> float:
    """An upper bound of any outline point's distance from the origin, wobble included."""
    return float(np.prod(1.0 + shape.wobble[:, 1]))
