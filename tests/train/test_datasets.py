from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vidseg.errors import InputError
from vidseg.train import augment, clips
from vidseg.train.clips import FrameStore, cache_path, object_areas
from vidseg.train.composite import composite_clip
from vidseg.train.datasets import VosSampleConfig, VosTrainingSet, frame_triplet

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SIZE = (96, 160)
NO_COLOUR = dict(brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0)
NAMES = ("alpha", "beta", "gamma")


@pytest.fixture(scope="module")
def davis_root(tmp_path_factory) -> Path:
    """Three rendered 2-object sequences of 10 frames, 214x120, in a DAVIS layout."""
    from vidseg.data import ClipConfig, render_clip, write_clip

    root = tmp_path_factory.mktemp("davis")
    for seed, name in enumerate(NAMES):
        clip = render_clip(ClipConfig(height=120, width=214, num_frames=10, num_objects=2, seed=seed))
        write_clip(clip, root, name=name)
    return root


@pytest.fixture(scope="module")
def store(davis_root) -> FrameStore:
    return FrameStore(davis_root, NAMES, scale=1.0, progress=False)


@pytest.fixture(scope="module")
def flat_store() -> FrameStore:
    """Grey textured backgrounds with one moving object of a pure colour per sequence (red, green, blue):
    colour tells object from background, and one object from another, exactly."""
    rng = np.random.default_rng(0)
    names, frames, masks = [], [], []
    for k in range(3):
        grey = np.stack([cv2.GaussianBlur(rng.uniform(40, 215, (120, 214)).astype(np.float32), (0, 0), 2)
                         for _ in range(8)])
        seq_frames = np.repeat(np.rint(grey).astype(np.uint8)[..., None], 3, axis=3)
        seq_masks = np.zeros((8, 120, 214), np.uint8)
        for t in range(8):
            cv2.ellipse(seq_masks[t], (60 + 6 * t + 20 * k, 60 - 2 * t), (30, 18), 15.0 * t, 0, 360, 1, -1)
            seq_frames[t][seq_masks[t] == 1] = np.eye(3, dtype=np.uint8)[k] * 255
        names.append(f"flat{k}")
        frames.append(seq_frames)
        masks.append(seq_masks)
    return FrameStore.from_arrays(names, frames, masks)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def _spread(image: np.ndarray) -> np.ndarray:
    """(H, W) max minus min channel: 0 for greys, large for pure colours."""
    return image.max(axis=-1).astype(int) - image.min(axis=-1)


def _as_uint8(frames: torch.Tensor) -> np.ndarray:
    """(3, 3, H, W) float in [0, 1] -> (3, H, W, 3) uint8."""
    return np.rint(frames.numpy().transpose(0, 2, 3, 1) * 255).astype(np.uint8)


def _shrink(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` eroded by ``pixels``, also from the image's edges (an object cut by the edge has a boundary there)."""
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return cv2.erode(mask.astype(np.uint8), disk, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)


# ---------------------------------------------------------------------------------------------
# FrameStore


def test_store_loads_every_frame_at_the_scale(davis_root):
    half = FrameStore(davis_root, NAMES[:2], scale=0.5, progress=False)
    assert half.names == NAMES[:2]
    assert half.frames[0].shape == (10, 60, 107, 3) and half.frames[0].dtype == np.uint8
    assert half.masks[0].shape == (10, 60, 107) and half.masks[0].dtype == np.uint8
    assert set(np.unique(half.masks[0])) <= {0, 1, 2}  # nearest keeps ids
    assert half.num_frames == 20


def test_cache_round_trips_and_is_reused_without_decoding(davis_root, tmp_path, monkeypatch):
    first = FrameStore(davis_root, NAMES[:2], scale=0.5, cache_dir=tmp_path, progress=False)
    assert cache_path(tmp_path, davis_root, NAMES[:2], 0.5).is_file()

    def no_decoding(*args):
        raise AssertionError("a cached load decoded a frame")

    monkeypatch.setattr(clips, "_read_frame", no_decoding)
    second = FrameStore(davis_root, NAMES[:2], scale=0.5, cache_dir=tmp_path, progress=False)
    assert second.names == first.names
    for a, b in zip(first.frames + first.masks, second.frames + second.masks):
        assert np.array_equal(a, b)
    assert cache_path(tmp_path, davis_root, NAMES[:2], 0.25) != cache_path(tmp_path, davis_root, NAMES[:2], 0.5)
    assert cache_path(tmp_path, davis_root, NAMES[:1], 0.5) != cache_path(tmp_path, davis_root, NAMES[:2], 0.5)


def test_default_cache_dir_is_shared_and_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEG_CACHE_DIR", str(tmp_path / "mine"))
    assert clips.default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("VIDSEG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert clips.default_cache_dir() == tmp_path / "xdg" / "vidseg"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert clips.default_cache_dir() == tmp_path / "home" / ".cache" / "vidseg"


def test_shared_store_caches_in_the_shared_folder(davis_root, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEG_CACHE_DIR", str(tmp_path / "shared"))
    store = FrameStore.shared(davis_root, NAMES[:1], scale=0.5)
    assert cache_path(tmp_path / "shared", davis_root, NAMES[:1], 0.5).is_file()
    assert store.names == NAMES[:1]


def test_bad_root_sequence_or_scale_is_an_input_error(davis_root, tmp_path):
    with pytest.raises(InputError, match="JPEGImages"):
        FrameStore(tmp_path / "nowhere", NAMES, progress=False)
    with pytest.raises(InputError, match="'nope'"):
        FrameStore(davis_root, ("alpha", "nope"), progress=False)
    with pytest.raises(InputError, match="scale"):
        FrameStore(davis_root, NAMES, scale=2.0, progress=False)


def test_a_frame_without_a_mask_is_an_input_error(davis_root, tmp_path):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(davis_root, root, ignore=shutil.ignore_patterns("beta", "gamma"))
    (root / "Annotations" / "alpha" / "00003.png").unlink()
    with pytest.raises(InputError, match="00003.png"):
        FrameStore(root, ("alpha",), progress=False)


# ---------------------------------------------------------------------------------------------
# Samples


def test_sample_shapes_dtypes_and_ranges(store):
    data = VosTrainingSet(store, VosSampleConfig(size=SIZE, synthetic_ratio=0.5), length=12)
    assert len(data) == 12
    for i in range(12):
        item = data[i]
        assert item["frames"].shape == (3, 3, *SIZE)
        assert item["masks"].shape == (3, 1, *SIZE)
        assert item["prev_mask"].shape == (1, *SIZE)
        assert item["prior"].shape == (1, *SIZE)
        assert all(v.dtype == torch.float32 for v in item.values())
        assert 0 <= item["frames"].min() and item["frames"].max() <= 1
        assert set(item["masks"].unique().tolist()) <= {0.0, 1.0}
        assert set(item["prev_mask"].unique().tolist()) <= {0.0, 1.0}
        assert 0 <= item["prior"].min() and item["prior"].max() <= 1
        assert item["masks"][0].sum() >= 1  # the reference frame shows the object
    with pytest.raises(IndexError):
        data[12]


def test_same_seed_and_index_give_the_same_sample_and_others_differ(store):
    config = VosSampleConfig(size=SIZE)
    a, b = VosTrainingSet(store, config), VosTrainingSet(store, config)
    other_seed = VosTrainingSet(store, VosSampleConfig(size=SIZE, seed=1))
    for i in (0, 7):
        for key, value in a[i].items():
            assert torch.equal(value, b[i][key])
    assert not torch.equal(a[0]["frames"], other_seed[0]["frames"])
    firsts = [a[i]["frames"][2] for i in range(8)]
    assert all(not torch.equal(firsts[0], f) for f in firsts[1:])


def test_prior_and_prev_mask_resemble_the_truth_without_copying_it(store):
    data = VosTrainingSet(store, VosSampleConfig(size=SIZE))
    prior_ious, prev_ious = [], []
    for i in range(30):
        item = data[i]
        masks = item["masks"][:, 0].numpy() > 0.5
        if masks[2].any():
            prior_ious.append(_iou(item["prior"][0].numpy() > 0.5, masks[2]))
        if masks[1].any():
            prev_ious.append(_iou(item["prev_mask"][0].numpy() > 0.5, masks[1]))
    assert 0.5 < np.mean(prior_ious) < 0.98
    assert 0.7 < np.mean(prev_ious) < 0.99
    assert min(prior_ious) < 0.5  # now and then a badly wrong prior


def test_zero_noise_gives_the_truth_as_prior_and_prev_mask(store):
    data = VosTrainingSet(store, VosSampleConfig(size=SIZE, prior_noise=0.0, prev_mask_noise=0.0))
    for i in range(5):
        item = data[i]
        assert torch.equal(item["prior"], item["masks"][2])
        assert torch.equal(item["prev_mask"], item["masks"][1])


@pytest.mark.parametrize("colour", [NO_COLOUR, {}], ids=["no-colour-jitter", "colour-jitter"])
def test_real_samples_keep_masks_on_their_objects(flat_store, colour):
    data = VosTrainingSet(flat_store, VosSampleConfig(size=SIZE, synthetic_ratio=0.0, **colour))
    for i in range(15):
        item = data[i]
        frames, masks = _as_uint8(item["frames"]), item["masks"][:, 0].numpy() > 0.5
        for frame, mask in zip(frames, masks):
            spread = _spread(frame)
            assert (spread[_shrink(mask, 2)] > 100).all()  # inside: the pure colour of the object
            assert (spread[~augment.grow(mask.astype(np.uint8), 2).astype(bool)] < 8).all()  # outside: grey
        if not colour:
            # Without colour jitter the object keeps its exact colour.
            inside = frames[2][_shrink(masks[2], 2)]
            assert len(np.unique(inside, axis=0)) == 1


def test_composites_label_the_visible_part_of_the_pasted_object(flat_store):
    config = VosSampleConfig(size=SIZE)
    areas = object_areas(flat_store)
    occluded = 0
    for i in range(25):
        clip = composite_clip(np.random.default_rng((5, i)), flat_store, areas, SIZE, config.scale_range, 64)
        assert clip is not None
        frames, masks = clip
        assert frames.shape == (3, *SIZE, 3) and masks.shape == (3, *SIZE)
        assert masks[0].sum() >= 64
        hue = None
        for frame, mask in zip(frames, masks.astype(bool)):
            colour_of = np.where(_spread(frame) > 100, frame.argmax(axis=-1), -1)  # -1: grey
            inside = np.unique(colour_of[_shrink(mask, 2)])
            assert len(inside) <= 1 and -1 not in inside  # one object's colour, never background
            hue = inside[0] if len(inside) else hue
            if hue is not None:  # the target's colour shows nowhere outside its mask
                outside = ~augment.grow(mask.astype(np.uint8), 2).astype(bool)
                assert not (colour_of[outside] == hue).any()
                occluded += _bitten(mask, (colour_of >= 0) & (colour_of != hue))
    assert occluded >= 1  # a distractor in front took a bite out of the (convex) target somewhere


def _bitten(mask: np.ndarray, other: np.ndarray) -> bool:
    """Whether another object's pixels fill a notch of ``mask``: inside its convex hull, well clear of its edge."""
    hull = np.zeros(mask.shape, np.uint8)
    points = cv2.findNonZero(mask.astype(np.uint8))
    if points is None:
        return False
    cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    return int((other & _shrink(hull, 3)).sum()) >= 30


def test_frame_triplets_run_forward_or_backward_within_the_gap():
    rng = np.random.default_rng(0)
    directions = set()
    for _ in range(200):
        ref, prev, cur = frame_triplet(rng, 20, max_gap=4, reverse_prob=0.3)
        assert 1 <= abs(cur - prev) <= 4
        assert (ref <= prev < cur) or (ref >= prev > cur)
        directions.add(cur > prev)
    assert directions == {True, False}
    assert frame_triplet(rng, 1, 4, 0.3) == [0, 0, 0]


def test_bad_config_is_an_input_error():
    with pytest.raises(InputError, match="size"):
        VosSampleConfig(size=(8, 320))
    with pytest.raises(InputError, match="synthetic_ratio"):
        VosSampleConfig(synthetic_ratio=1.5)
    with pytest.raises(InputError, match="max_gap"):
        VosSampleConfig(max_gap=0)
    with pytest.raises(InputError, match="scale_range"):
        VosSampleConfig(scale_range=(1.2, 0.8))


def test_real_davis_sequences_give_samples():
    root = SHARED_DATA / "davis2016-train"
    if not root.exists():
        pytest.skip(f"{root} is absent")
    real = FrameStore(root, ("bear", "boat"), scale=0.25, progress=False)
    assert real.frames[0].shape[1:] == (120, 214, 3)
    data = VosTrainingSet(real, VosSampleConfig(size=SIZE, synthetic_ratio=0.5))
    for i in range(6):
        item = data[i]
        assert item["frames"].shape == (3, 3, *SIZE)
        assert item["masks"][0].sum() >= 1
