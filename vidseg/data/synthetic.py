"""Rendered example clips with exact ground truth: the README demo and the tests' fixture.

A clip is a small but honest segmentation problem: a textured background that the camera pans
and zooms over (with unlabelled look-alike clutter on it), irregular textured objects from the
same colour family that move, turn, deform, occlude one another and may leave the frame for a
while, global brightness drift and sensor noise. Frames and labels are rendered together, so the
labels are exact: per frame an index map, 0 background and k for the visible part of object k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from vidseg.data import motion, textures
from vidseg.data.paint import Raster, cast_shadow, paint_textured, rasterise
from vidseg.data.shapes import Shape, max_extent, outline, random_shape
from vidseg.errors import InputError, OutputError
from vidseg.io.atomic import atomic_path
from vidseg.io.masks import write_index_png
from vidseg.io.writers import write_video

_LAYOUT_ATTEMPTS = 32
_MIN_VISIBLE_PIXELS = 16
_SHADOW_STRENGTH = 0.35


@dataclass(frozen=True)
class ClipConfig:
    """What to render. Sizes in pixels; ``max_speed`` in pixels per frame, relative to the background."""

    height: int = 240
    width: int = 427
    num_frames: int = 48
    num_objects: int = 3
    seed: int = 0
    noise_std: float = 3.0
    max_speed: float = 5.0
    object_size: float = 0.2  # mean largest radius of an object, as a share of the shorter side
    brightness_change: float = 0.1  # amplitude of the slow global gain drift
    camera_motion: bool = True

    def __post_init__(self) -> None:
        _check_range("height", self.height, 32, 4096, integer=True)
        _check_range("width", self.width, 32, 4096, integer=True)
        _check_range("num_frames", self.num_frames, 2, 100_000, integer=True)
        _check_range("num_objects", self.num_objects, 1, 10, integer=True)
        _check_range("seed", self.seed, 0, 2**63 - 1, integer=True)
        _check_range("noise_std", self.noise_std, 0.0, 50.0)
        _check_range("max_speed", self.max_speed, 0.1, 100.0)
        _check_range("object_size", self.object_size, 0.05, 0.45)
        _check_range("brightness_change", self.brightness_change, 0.0, 0.5)


def _check_range(name: str, value: float, low: float, high: float, integer: bool = False) -> None:
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise InputError(f"ClipConfig.{name} is {value!r}; use {kind} from {low} to {high}.")


@dataclass
class SyntheticClip:
    """A rendered clip.

    ``frames``: ``(T, H, W, 3)`` uint8 RGB. ``labels``: ``(T, H, W)`` uint8, 0 background, else an id.
    ``object_ids``: ids in ``labels``, 1..K. ``amodal_areas``: ``(T, K)`` int64, pixels of each
    object's whole silhouette inside the frame as if nothing were in front of it (column k-1 is id k).
    """

    frames: np.ndarray
    labels: np.ndarray
    object_ids: list[int]
    amodal_areas: np.ndarray
    config: ClipConfig = field(default_factory=ClipConfig)


@dataclass(frozen=True)
class _Mover:
    """One object's geometry: ``poses`` ``(T, 2, 3)`` map object coordinates to the screen."""

    shape: Shape
    poses: np.ndarray

    def radius(self, t: int) -> float:
        return float(np.sqrt(abs(np.linalg.det(self.poses[t, :, :2]))))

    def polygon(self, t: int) -> np.ndarray:
        return motion.apply_affine(self.poses[t], outline(self.shape, t))


@dataclass(frozen=True)
class _Layout:
    """Where everything is: camera, objects (index k is id k+1) and their back-to-front order."""

    camera: motion.Camera
    movers: list[_Mover]
    back_to_front: list[int]


def render_clip(config: ClipConfig | None = None) -> SyntheticClip:
    """Render the clip that ``config`` describes; the same config always gives the same arrays."""
    config = config or ClipConfig()
    for attempt in range(_LAYOUT_ATTEMPTS):
        layout = _plan_layout(config, np.random.default_rng([config.seed, 0, attempt]))
        # Frame 0 alone rejects most bad layouts, at a fraction of the cost of the whole clip.
        if not _is_valid_problem(*_label_maps(config, layout, [_rasterise_frame(config, layout, 0)])):
            continue
        rasters = [_rasterise_frame(config, layout, t) for t in range(config.num_frames)]
        labels, amodal = _label_maps(config, layout, rasters)
        if _is_valid_problem(labels, amodal):
            break
    else:
        raise InputError(f"Could not place {config.num_objects} objects in a {config.width}x{config.height} "
                         "frame so that each is visible; use fewer objects, a smaller object_size or a larger frame.")
    frames = _render_frames(config, layout, rasters, np.random.default_rng([config.seed, 1]))
    return SyntheticClip(frames=frames, labels=labels, object_ids=list(range(1, config.num_objects + 1)),
                         amodal_areas=amodal, config=config)


def _plan_layout(config: ClipConfig, rng: np.random.Generator) -> _Layout:
    camera = motion.camera_path(rng, config.num_frames, config.height, config.width, config.camera_motion)
    radii = rng.uniform(0.75, 1.25, config.num_objects) * config.object_size * min(config.height, config.width)
    waypoints = _screen_waypoints(config, rng, radii)
    times = motion.waypoint_times(config.num_frames)
    movers = []
    for radius, screen_points in zip(radii, waypoints):
        # Waypoints are chosen on screen, where visibility matters, then pinned to the world.
        world_points = np.stack([
            motion.apply_affine(motion.invert_affine(camera.matrices[int(round(t))]), p[None])[0]
            for t, p in zip(times, screen_points)
        ])
        centres = motion.spline_path(times, world_points, config.num_frames)
        movers.append(_Mover(shape=random_shape(rng), poses=_poses(config, rng, camera, centres, radius)))
    return _Layout(camera=camera, movers=movers, back_to_front=_depth_order(rng, radii))


def _depth_order(rng: np.random.Generator, radii: np.ndarray) -> list[int]:
    """A random back-to-front order in which the smaller of the meeting pair (objects 0 and 1) is
    behind, so that when they meet one is mostly hidden rather than merely touched."""
    order = [int(k) for k in rng.permutation(len(radii))]
    if len(radii) >= 2 and (order.index(0) < order.index(1)) != (radii[0] < radii[1]):
        i, j = order.index(0), order.index(1)
        order[i], order[j] = order[j], order[i]
    return order


def _screen_waypoints(config: ClipConfig, rng: np.random.Generator, radii: np.ndarray) -> list[np.ndarray]:
    """Per object ``(n, 2)`` screen waypoints: objects 1 and 2 meet mid-clip, object 3 leaves the frame."""
    times = motion.waypoint_times(config.num_frames)
    step = max(times[1] - times[0], 1.0) * config.max_speed if len(times) > 1 else 0.0
    size = np.array([config.width - 1, config.height - 1], float)
    anchors = [(0, rng.uniform(0.5 * r, size - 0.5 * r), None) for r in radii]
    meet = len(times) // 2
    if len(radii) >= 2:
        # One passes behind the other mid-clip; they come from and go to opposite sides.
        point = rng.uniform(0.3, 0.7, 2) * size
        gap = 0.2 * (radii[0] + radii[1]) * _unit(rng.uniform(0, 2 * np.pi))
        headings = rng.uniform(0, 2 * np.pi, 2)
        anchors[0] = (meet, point + gap / 2, (headings[0], headings[1]))
        anchors[1] = (meet, point - gap / 2, (headings[0] + np.pi, headings[1] + np.pi))
    if len(radii) >= 3 and len(times) >= 3:
        anchors[2] = (max(1, meet - 1), _exit_point(rng, size, radii[2]), None)
    walks = []
    for radius, (index, anchor, headings) in zip(radii, anchors):
        low, high = np.minimum(0.5 * radius, size / 2), np.maximum(size - 0.5 * radius, size / 2)
        walks.append(motion.random_walk(rng, len(times), index, anchor, (0.35 * step, 0.65 * step),
                                        low, high, headings))
    return walks


def _exit_point(rng: np.random.Generator, size: np.ndarray, radius: float) -> np.ndarray:
    """A centre just beyond a random edge: more than half of the object is out of the frame."""
    point = rng.uniform(0.25, 0.75, 2) * size
    axis, side = int(rng.integers(2)), int(rng.integers(2))
    point[axis] = size[axis] + 0.15 * radius if side else -0.15 * radius
    return point


def _unit(angle: float) -> np.ndarray:
    return np.array([np.cos(angle), np.sin(angle)])


def _poses(config: ClipConfig, rng: np.random.Generator, camera: motion.Camera,
           centres: np.ndarray, radius: float) -> np.ndarray:
    """``(T, 2, 3)`` object-to-screen affines: world centre path, slow spin, breathing scale, camera."""
    frames = np.arange(config.num_frames)
    spin = rng.uniform(0.004, 0.03) * rng.choice([-1.0, 1.0])
    angles = rng.uniform(0, 2 * np.pi) + spin * frames + motion.oscillation(rng, config.num_frames, 0.2)
    scales = radius * (1.0 + motion.oscillation(rng, config.num_frames, 0.12))
    poses = np.empty((config.num_frames, 2, 3))
    for t in frames:
        c, s = np.cos(angles[t]) * scales[t], np.sin(angles[t]) * scales[t]
        world = np.array([[c, -s, centres[t, 0]], [s, c, centres[t, 1]]])
        poses[t] = motion.compose_affine(camera.matrices[t], world)
    return poses


def _rasterise_frame(config: ClipConfig, layout: _Layout, t: int) -> list[Raster | None]:
    return [rasterise(mover.polygon(t), config.height, config.width) for mover in layout.movers]


def _label_maps(config: ClipConfig, layout: _Layout,
                rasters: list[list[Raster | None]]) -> tuple[np.ndarray, np.ndarray]:
    """Index maps ``(n, H, W)`` uint8, painted back to front, and amodal areas ``(n, K)`` int64, for the
    ``n`` frames of ``rasters``."""
    labels = np.zeros((len(rasters), config.height, config.width), np.uint8)
    amodal = np.zeros((len(rasters), config.num_objects), np.int64)
    for t, frame_rasters in enumerate(rasters):
        for k in layout.back_to_front:
            raster = frame_rasters[k]
            if raster is not None:
                raster.region(labels[t])[raster.solid] = k + 1
                amodal[t, k] = int(raster.solid.sum())
    return labels, amodal


def _is_valid_problem(labels: np.ndarray, amodal: np.ndarray) -> bool:
    """Every object clearly visible on frame 0 and visible on at least 80% of the frames."""
    num_objects = amodal.shape[1]
    visible = np.stack([np.bincount(f.ravel(), minlength=num_objects + 1)[1:] for f in labels])
    first_ok = np.all((visible[0] >= _MIN_VISIBLE_PIXELS) & (visible[0] >= 0.3 * amodal[0]))
    mostly_ok = np.all((visible >= _MIN_VISIBLE_PIXELS).mean(axis=0) >= 0.8)
    return bool(first_ok and mostly_ok)


def _render_frames(config: ClipConfig, layout: _Layout, rasters: list[list[Raster | None]],
                   rng: np.random.Generator) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 frames: background through the camera, objects back to front, sensor."""
    base_hue = float(rng.random())
    scene = textures.scene_palette(rng, base_hue)
    light = _unit(rng.uniform(0, 2 * np.pi))
    canvas = _background(config, rng, layout.camera.canvas_size, scene, base_hue, light)
    looks = [_object_look(rng, mover, scene, base_hue) for mover in layout.movers]
    vignette, gains = _sensor_response(config, rng)
    frames = np.empty((config.num_frames, config.height, config.width, 3), np.uint8)
    for t in range(config.num_frames):
        image = cv2.warpAffine(canvas, layout.camera.matrices[t], (config.width, config.height),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        for k in layout.back_to_front:
            if rasters[t][k] is not None:
                _draw_object(image, layout.movers[k], t, rasters[t][k], looks[k], light)
        image *= vignette * gains[t]
        if config.noise_std > 0:
            image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(config.noise_std)
        np.clip(np.rint(image), 0, 255, out=image)
        frames[t] = image
    return frames


def _draw_object(image: np.ndarray, mover: _Mover, t: int, raster: Raster,
                 look: tuple[np.ndarray, np.ndarray], light: np.ndarray) -> None:
    texture, texture_to_object = look
    radius = mover.radius(t)
    cast_shadow(image, mover.polygon(t), -light * 0.12 * radius, 0.08 * radius + 0.5, _SHADOW_STRENGTH)
    paint_textured(image, raster, texture, motion.compose_affine(mover.poses[t], texture_to_object),
                   mover.poses[t, :, 2], radius, light)


def _object_look(rng: np.random.Generator, mover: _Mover, scene: np.ndarray,
                 base_hue: float) -> tuple[np.ndarray, np.ndarray]:
    """A square texture ``(S, S, 3)`` float32 and the ``(2, 3)`` affine from its pixels to object coordinates."""
    extent = max_extent(mover.shape) * 1.05
    largest = float(np.sqrt(np.abs(np.linalg.det(mover.poses[:, :, :2]))).max())
    size = int(np.ceil(2 * extent * largest)) + 4
    palette = textures.object_palette(rng, scene, base_hue)
    texture = textures.make_texture(rng, size, size, palette, cell=rng.uniform(0.3, 0.7) * largest)
    pixel = 2 * extent / (size - 1)
    offset = -0.5 * (size - 1) * pixel
    return texture, np.array([[pixel, 0.0, offset], [0.0, pixel, offset]])


def _background(config: ClipConfig, rng: np.random.Generator, canvas_size: tuple[int, int],
                scene: np.ndarray, base_hue: float, light: np.ndarray) -> np.ndarray:
    """``(Hc, Wc, 3)`` float32: two textures blended by a large-scale mask, lit unevenly, with clutter."""
    height, width = canvas_size
    short = min(config.height, config.width)
    first = textures.make_texture(rng, height, width, scene[:4], cell=0.35 * short)
    second = textures.make_texture(rng, height, width, scene[2:], cell=0.2 * short)
    blend = textures.fractal_noise(rng, height, width, 0.6 * short, octaves=2)
    weight = np.clip((blend - 0.4) / 0.2, 0.0, 1.0)[..., None]
    canvas = first * (1.0 - weight) + second * weight
    canvas *= (1.08 - 0.16 * np.linspace(0.0, 1.0, height, dtype=np.float32))[:, None, None]
    _scatter_clutter(config, rng, canvas, scene, base_hue, light)
    return canvas


def _scatter_clutter(config: ClipConfig, rng: np.random.Generator, canvas: np.ndarray,
                     scene: np.ndarray, base_hue: float, light: np.ndarray) -> None:
    """Paint unlabelled object-like shapes on the canvas: background that looks like foreground."""
    height, width = canvas.shape[:2]
    typical = config.object_size * min(config.height, config.width)
    for _ in range(int(rng.integers(3, 7))):
        radius = rng.uniform(0.4, 1.1) * typical
        angle = rng.uniform(0, 2 * np.pi)
        centre = rng.uniform((0, 0), (width, height))
        c, s = np.cos(angle) * radius, np.sin(angle) * radius
        mover = _Mover(shape=random_shape(rng), poses=np.array([[[c, -s, centre[0]], [s, c, centre[1]]]]))
        raster = rasterise(mover.polygon(0), height, width)
        if raster is not None:
            _draw_object(canvas, mover, 0, raster, _object_look(rng, mover, scene, base_hue), light)


def _sensor_response(config: ClipConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Vignetting ``(H, W, 1)`` float32 and per-frame RGB gains ``(T, 3)`` float32 (brightness, tint drift)."""
    frames, height, width = config.num_frames, config.height, config.width
    gain = 1.0 + motion.oscillation(rng, frames, config.brightness_change)
    tint = 1.0 + np.stack([motion.oscillation(rng, frames, 0.03) for _ in range(3)], axis=1)
    ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    vignette = 1.0 - 0.09 * (xs**2 + ys**2)
    return vignette[..., None], (gain[:, None] * tint).astype(np.float32)


def write_clip(clip: SyntheticClip, root: str | Path, name: str = "synthetic") -> Path:
    """Write ``clip`` as a DAVIS sequence under ``root``; return ``root/JPEGImages/<name>``.

    Frames go to ``JPEGImages/<name>/00000.jpg ...`` (quality 90), labels to
    ``Annotations/<name>/00000.png ...`` (palette PNGs). Every file is written atomically.
    """
    if not name or Path(name).name != name or name.startswith("."):
        raise InputError(f"Sequence name {name!r} is not a plain folder name; use letters, digits, '-' or '_'.")
    image_dir, mask_dir = Path(root) / "JPEGImages" / name, Path(root) / "Annotations" / name
    stems = [f"{t:05d}" for t in range(len(clip.frames))]
    _refuse_other_files(image_dir, {f"{stem}.jpg" for stem in stems})
    _refuse_other_files(mask_dir, {f"{stem}.png" for stem in stems})
    for stem, frame, labels in zip(stems, clip.frames, clip.labels):
        with atomic_path(image_dir / f"{stem}.jpg") as tmp:
            Image.fromarray(frame).save(tmp, format="JPEG", quality=90)
        write_index_png(mask_dir / f"{stem}.png", labels)
    return image_dir


def _refuse_other_files(folder: Path, expected: set[str]) -> None:
    """Stop before mixing two clips in one folder: stale extra frames would corrupt the sequence."""
    if not folder.is_dir():
        return
    others = sorted(p.name for p in folder.iterdir() if p.name not in expected and not p.name.startswith("."))
    if others:
        raise OutputError(f"{folder} already holds files of another clip ({others[0]}, ...); "
                          "remove the folder or pass another name.")


def write_clip_video(clip: SyntheticClip, path: str | Path, fps: int = 24) -> Path:
    """Write ``clip.frames`` as an H.264 mp4 (yuv420p) at ``path``, atomically; return the path.

    H.264 in 4:2:0 needs even sizes, so an odd height or width gains a copy of its last row or
    column: the video's frames then are one pixel larger than ``clip.labels``.
    """
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 240:
        raise InputError(f"fps is {fps!r}; use a whole number from 1 to 240.")
    return write_video(path, clip.frames, fps)
