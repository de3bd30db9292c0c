"""Smooth random motion for synthetic scenes: object paths through waypoints, and a camera.

Coordinates are pixels, (x, y). "World" is the background canvas; "screen" is the frame. The camera
maps world to screen with one 2x3 affine matrix per frame (pan, slow zoom, slight roll).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """``matrices``: ``(T, 2, 3)`` float64, world (canvas) -> screen; ``canvas_size``: (height, width)."""

    matrices: np.ndarray
    canvas_size: tuple[int, int]


def ease(num_frames: int) -> np.ndarray:
    """``(num_frames,)`` smoothstep from 0 to 1: starts and stops gently, as a camera operator does."""
    s = np.linspace(0.0, 1.0, num_frames)
    return s * s * (3.0 - 2.0 * s)


def oscillation(rng: np.random.Generator, num_frames: int, amplitude: float) -> np.ndarray:
    """``(num_frames,)`` slow sine of random phase, 0.3 to 1 cycles over the clip."""
    cycles = rng.uniform(0.3, 1.0)
    t = np.arange(num_frames) / max(num_frames, 1)
    return amplitude * np.sin(2 * np.pi * cycles * t + rng.uniform(0, 2 * np.pi))


def camera_path(rng: np.random.Generator, num_frames: int, height: int, width: int, moving: bool) -> Camera:
    """A camera that pans along a gently curved line, zooms in or out by 8% and rolls slightly."""
    pan = min(0.12 * width, 1.5 * (num_frames - 1)) if moving else 0.0
    zoom_range = 0.08 if moving else 0.0
    pad = int(np.ceil(0.6 * pan + 0.03 * max(height, width))) + 4
    canvas_h, canvas_w = height + 2 * pad, width + 2 * pad
    e = ease(num_frames)
    heading = rng.uniform(0, 2 * np.pi)
    along = np.array([np.cos(heading), np.sin(heading)])
    across = np.array([-along[1], along[0]])
    bow = 0.15 * pan * rng.choice([-1.0, 1.0])
    centres = (np.array([(canvas_w - 1) / 2, (canvas_h - 1) / 2])
               + np.outer((e - 0.5) * pan, along) + np.outer(bow * np.sin(np.pi * e), across))
    zoom = 1.0 + zoom_range * (e if rng.random() < 0.5 else 1.0 - e)
    roll = oscillation(rng, num_frames, 0.01 if moving else 0.0)
    screen_centre = np.array([(width - 1) / 2, (height - 1) / 2])
    matrices = np.empty((num_frames, 2, 3))
    for t in range(num_frames):
        c, s = np.cos(roll[t]), np.sin(roll[t])
        linear = zoom[t] * np.array([[c, -s], [s, c]])
        matrices[t, :, :2] = linear
        matrices[t, :, 2] = screen_centre - linear @ centres[t]
    return Camera(matrices=matrices, canvas_size=(canvas_h, canvas_w))


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map ``(n, 2)`` points by a ``(2, 3)`` affine matrix."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a ``(2, 3)`` affine matrix."""
    inverse_linear = np.linalg.inv(matrix[:, :2])
    return np.concatenate([inverse_linear, -(inverse_linear @ matrix[:, 2])[:, None]], axis=1)


def compose_affine(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The ``(2, 3)`` affine that applies ``inner`` first, then ``outer``."""
    return np.concatenate([outer[:, :2] @ inner[:, :2], (outer[:, :2] @ inner[:, 2] + outer[:, 2])[:, None]], axis=1)


def waypoint_times(num_frames: int, frames_per_segment: float = 14.0) -> np.ndarray:
    """Frame times of the waypoints, evenly spaced, first and last frame included."""
    segments = max(1, int(round((num_frames - 1) / frames_per_segment)))
    return np.linspace(0.0, num_frames - 1, segments + 1)


def random_walk(rng: np.random.Generator, count: int, anchor_index: int, anchor: np.ndarray,
                step: tuple[float, float], low: np.ndarray, high: np.ndarray,
                headings: tuple[float, float] | None = None) -> np.ndarray:
    """``(count, 2)`` waypoints that pass through ``anchor`` at ``anchor_index``, kept in [low, high].

    From the anchor the walk goes forward and backward in time, starting in the directions
    ``headings`` (radians; random if None) and turning slowly; it bounces off the bounds so
    objects stay in view.
    """
    points = np.empty((count, 2))
    points[anchor_index] = anchor
    headings = headings or (rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi))
    for direction, heading in zip((1, -1), headings):
        index = anchor_index + direction
        while 0 <= index < count:
            heading += rng.normal(0.0, 0.7)
            move = rng.uniform(*step) * np.array([np.cos(heading), np.sin(heading)])
            point = points[index - direction] + move
            outside = (point < low) | (point > high)
            if outside.any():
                # Reflect the step on the crossed wall, so the walk turns away instead of sticking.
                move[outside] *= -1
                heading = float(np.arctan2(move[1], move[0]))
                point = np.clip(points[index - direction] + move, low, high)
            points[index] = point
            index += direction
    return points


def spline_path(times: np.ndarray, points: np.ndarray, num_frames: int) -> np.ndarray:
    """``(num_frames, d)`` cubic Hermite (Catmull-Rom) path through ``points`` ``(n, d)`` at ``times``."""
    if len(times) == 1:
        return np.repeat(points[:1], num_frames, axis=0)
    padded_t = np.concatenate([[2 * times[0] - times[1]], times, [2 * times[-1] - times[-2]]])
    padded_p = np.concatenate([[points[0]], points, [points[-1]]])
    tangents = (padded_p[2:] - padded_p[:-2]) / (padded_t[2:] - padded_t[:-2])[:, None]
    frames = np.arange(num_frames, dtype=float)
    seg = np.clip(np.searchsorted(times, frames, side="right") - 1, 0, len(times) - 2)
    dt = (times[seg + 1] - times[seg])[:, None]
    s = (frames[:, None] - times[seg][:, None]) / dt
    h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
    h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
    return (h00 * points[seg] + h10 * dt * tangents[seg]
            + h01 * points[seg + 1] + h11 * dt * tangents[seg + 1])
