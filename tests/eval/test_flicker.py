from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.eval.flicker import SequenceFlows, pair_flicker, sequence_flicker
from vidseg.io.masks import write_index_png

H, W, SIDE, FRAMES = 192, 256, 64, 6
STEP = (4, 3)  # the square moves this many (columns, rows) per frame
START = (60, 40)  # its top-left corner (column, row) in frame 0


def _texture(seed: int, h: int, w: int, sigma: float) -> np.ndarray:
    noise = np.random.default_rng(seed).random((h, w)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), sigma)
    return (255 * (smooth - smooth.min()) / np.ptp(smooth)).astype(np.uint8)


def _corner(t: int) -> tuple[int, int]:
    return START[0] + STEP[0] * t, START[1] + STEP[1] * t


def moving_square_frames() -> np.ndarray:
    """(FRAMES, H, W, 3) uint8: a textured square moving by STEP per frame over a still, softer background."""
    background = _texture(1, H, W, 3.0) // 2 + 64
    square = _texture(2, SIDE, SIDE, 2.0)
    frames = []
    for t in range(FRAMES):
        frame = background.copy()
        x, y = _corner(t)
        frame[y : y + SIDE, x : x + SIDE] = square
        frames.append(np.stack([frame] * 3, axis=-1))
    return np.stack(frames)


def panning_frames() -> np.ndarray:
    """(FRAMES, H, W, 3) uint8: the whole view moves by STEP per frame (a camera pan), square included."""
    scene = _texture(3, H + 40, W + 40, 2.0)
    frames = []
    for t in range(FRAMES):
        dx, dy = STEP[0] * t, STEP[1] * t
        frames.append(np.stack([scene[40 - dy : 40 - dy + H, 40 - dx : 40 - dx + W]] * 3, axis=-1))
    return np.stack(frames)


def square_mask(x: int, y: int, obj_id: int = 1) -> np.ndarray:
    labels = np.zeros((H, W), np.uint8)
    labels[max(y, 0) : y + SIDE, max(x, 0) : x + SIDE] = obj_id
    return labels


def write_masks(folder: Path, masks: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for t, labels in enumerate(masks):
        write_index_png(folder / f"{t:05d}.png", labels)
    return folder


CLIP = moving_square_frames()


@pytest.fixture(scope="module")
def flows() -> SequenceFlows:
    """The clip's flows, computed once and shared by every mask set, as a benchmark does."""
    return SequenceFlows(CLIP)


def test_masks_that_follow_a_pan_do_not_flicker(tmp_path):
    masks = write_masks(tmp_path / "follow", [square_mask(*_corner(t)) for t in range(FRAMES)])
    assert sequence_flicker(panning_frames(), masks) < 1.0


def test_masks_that_follow_a_moving_object_barely_flicker(flows, tmp_path):
    # Not 0: half-resolution flow blurs across the object's edge, which is why the ground truth's
    # flicker is reported as the floor (about 5 here).
    masks = write_masks(tmp_path / "follow", [square_mask(*_corner(t)) for t in range(FRAMES)])
    assert sequence_flicker(CLIP, masks, flows) < 8.0


def test_jittering_masks_flicker_clearly_more(flows, tmp_path):
    rng = np.random.default_rng(0)
    follow = write_masks(tmp_path / "follow", [square_mask(*_corner(t)) for t in range(FRAMES)])
    jitter = [square_mask(x + int(rng.integers(-6, 7)), y + int(rng.integers(-6, 7)))
              for x, y in map(_corner, range(FRAMES))]
    jittered = write_masks(tmp_path / "jitter", jitter)
    assert sequence_flicker(CLIP, jittered, flows) > sequence_flicker(CLIP, follow, flows) + 10.0


def test_masks_that_stay_put_flicker_more_than_masks_that_follow(flows, tmp_path):
    follow = write_masks(tmp_path / "follow", [square_mask(*_corner(t)) for t in range(FRAMES)])
    still = write_masks(tmp_path / "still", [square_mask(*START)] * FRAMES)
    assert sequence_flicker(CLIP, still, flows) > sequence_flicker(CLIP, follow, flows) + 4.0


def test_empty_masks_have_no_flicker(flows, tmp_path):
    empty = write_masks(tmp_path / "empty", [np.zeros((H, W), np.uint8)] * FRAMES)
    assert sequence_flicker(CLIP, empty, flows) == 0.0
    assert pair_flicker(np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8), flows.backward(1)) == 0.0


def test_each_object_counts_once_per_frame():
    still = np.zeros((H, W, 2), np.float32)
    kept, lost = square_mask(10, 10, 1), square_mask(140, 80, 2)
    # Object 1 stays exactly, object 2 vanishes: mean of (1 - 1) and (1 - 0).
    assert pair_flicker(kept | lost, kept, still) == pytest.approx(0.5)


def test_flows_computed_from_a_folder_match_the_shared_ones(flows, tmp_path):
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for t, frame in enumerate(CLIP):
        cv2.imwrite(str(frames_dir / f"{t:05d}.png"), frame[..., ::-1])
    masks = write_masks(tmp_path / "follow", [square_mask(*_corner(t)) for t in range(FRAMES)])
    assert sequence_flicker(frames_dir, masks) == pytest.approx(sequence_flicker(CLIP, masks, flows))


def test_a_missing_mask_is_named(flows, tmp_path):
    masks = write_masks(tmp_path / "gap", [square_mask(*_corner(t)) for t in range(FRAMES)])
    (masks / "00003.png").unlink()
    with pytest.raises(InputError, match="00003"):
        sequence_flicker(CLIP, masks, flows)
