from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from vidseg.data import ClipConfig, SyntheticClip, render_clip, write_clip, write_clip_video
from vidseg.errors import InputError, OutputError

SMALL = ClipConfig(height=72, width=128, num_frames=6, num_objects=3)


@pytest.fixture(scope="module")
def clip() -> SyntheticClip:
    return render_clip(ClipConfig())


def _visible_areas(clip: SyntheticClip) -> np.ndarray:
    """``(T, K)`` pixels labelled with each id per frame."""
    k = len(clip.object_ids)
    return np.stack([np.bincount(frame.ravel(), minlength=k + 1)[1:] for frame in clip.labels])


def test_same_seed_gives_identical_arrays_and_other_seed_differs():
    first, second = render_clip(SMALL), render_clip(SMALL)
    other = render_clip(ClipConfig(**{**SMALL.__dict__, "seed": 1}))
    assert np.array_equal(first.frames, second.frames)
    assert np.array_equal(first.labels, second.labels)
    assert not np.array_equal(first.frames, other.frames)
    assert not np.array_equal(first.labels, other.labels)


def test_shapes_and_dtypes(clip):
    config = clip.config
    assert clip.frames.shape == (config.num_frames, config.height, config.width, 3)
    assert clip.frames.dtype == np.uint8
    assert clip.labels.shape == (config.num_frames, config.height, config.width)
    assert clip.labels.dtype == np.uint8
    assert clip.amodal_areas.shape == (config.num_frames, config.num_objects)
    assert clip.object_ids == [1, 2, 3]


def test_labels_are_background_or_an_object_id(clip):
    assert set(np.unique(clip.labels)) == {0, *clip.object_ids}


def test_every_object_is_visible_on_frame_zero_and_on_most_frames(clip):
    visible = _visible_areas(clip)
    assert np.all(visible[0] >= 100)
    assert np.all((visible > 0).mean(axis=0) >= 0.8)


def test_an_object_passes_behind_another(clip):
    visible = _visible_areas(clip)
    shown = visible / np.maximum(clip.amodal_areas, 1)
    assert np.all(visible <= clip.amodal_areas)
    assert shown.min() < 0.5


def test_an_object_partly_leaves_the_frame_and_comes_back(clip):
    areas = clip.amodal_areas.astype(float)
    usual = np.median(areas, axis=0)
    leaves = [k for k in range(areas.shape[1])
              if areas[:, k].min() < 0.6 * usual[k] and areas[areas[:, k].argmin():, k].max() > 0.9 * usual[k]]
    assert leaves


def test_objects_move(clip):
    for obj_id in clip.object_ids:
        centroids = np.array([np.argwhere(frame == obj_id).mean(axis=0)
                              for frame in clip.labels if (frame == obj_id).any()])
        assert np.linalg.norm(centroids - centroids[0], axis=1).max() > 20


def test_the_background_moves_with_the_camera(clip):
    background = (clip.labels[0] == 0) & (clip.labels[-1] == 0)
    change = np.abs(clip.frames[-1].astype(int) - clip.frames[0].astype(int)).mean(axis=2)
    assert change[background].mean() > 15


def test_label_boundaries_sit_on_image_edges(clip):
    """Summed over objects and frames, edge strength along the label boundary peaks at zero shift."""
    shifts = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)]
    scores = np.zeros(len(shifts))
    for t in range(0, len(clip.frames), 6):
        gray = cv2.cvtColor(clip.frames[t], cv2.COLOR_RGB2GRAY).astype(np.float32)
        edges = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
        for obj_id in clip.object_ids:
            mask = (clip.labels[t] == obj_id).astype(np.uint8)
            boundary = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
            scores += [edges[np.roll(boundary, shift, axis=(0, 1))].mean() for shift in shifts]
    aligned = shifts.index((0, 0))
    assert scores.argmax() == aligned
    two_pixels_off = [i for i, (dy, dx) in enumerate(shifts) if max(abs(dy), abs(dx)) == 2]
    assert scores[aligned] > 1.15 * scores[two_pixels_off].max()


def test_write_clip_round_trips_in_davis_layout(tmp_path):
    small = render_clip(SMALL)
    image_dir = write_clip(small, tmp_path, name="demo")
    assert image_dir == tmp_path / "JPEGImages" / "demo"
    images = sorted(image_dir.iterdir())
    masks = sorted((tmp_path / "Annotations" / "demo").iterdir())
    assert [p.name for p in images] == [f"{t:05d}.jpg" for t in range(SMALL.num_frames)]
    assert [p.name for p in masks] == [f"{t:05d}.png" for t in range(SMALL.num_frames)]
    for t, (image_path, mask_path) in enumerate(zip(images, masks)):
        with Image.open(mask_path) as mask:
            assert mask.mode == "P"
            assert np.array_equal(np.array(mask), small.labels[t])
            assert mask.getpalette()[:9] == [0, 0, 0, 128, 0, 0, 0, 128, 0]
        with Image.open(image_path) as image:
            assert image.size == (SMALL.width, SMALL.height)
            assert np.abs(np.asarray(image.convert("RGB"), int) - small.frames[t]).mean() < 8


def test_write_clip_refuses_to_mix_two_clips(tmp_path):
    write_clip(render_clip(SMALL), tmp_path)
    write_clip(render_clip(SMALL), tmp_path)  # the same clip again simply overwrites
    shorter = render_clip(ClipConfig(**{**SMALL.__dict__, "num_frames": 3}))
    with pytest.raises(OutputError, match="another clip"):
        write_clip(shorter, tmp_path)


def test_write_clip_video_decodes_to_every_frame(tmp_path):
    small = render_clip(ClipConfig(height=73, width=129, num_frames=5, num_objects=2))
    path = write_clip_video(small, tmp_path / "clip.mp4", fps=24)
    with av.open(str(path)) as container:
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(decoded) == 5
    assert decoded[0].shape == (74, 130, 3)  # odd sizes gain a copy of the edge row/column
    assert np.abs(decoded[0][:73, :129].astype(int) - small.frames[0]).mean() < 10
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


@pytest.mark.parametrize("change", [
    {"num_objects": 0}, {"num_objects": 11}, {"height": 31}, {"width": 16}, {"num_frames": 1},
    {"seed": -1}, {"noise_std": -1.0}, {"max_speed": 0.0}, {"object_size": 0.9}, {"num_objects": True},
    {"height": 240.5},
])
def test_config_rejects_bad_values(change):
    with pytest.raises(InputError, match="ClipConfig"):
        ClipConfig(**change)


def test_impossible_layout_is_a_user_error():
    with pytest.raises(InputError, match="fewer objects"):
        render_clip(ClipConfig(height=64, width=64, num_objects=10, object_size=0.45))
