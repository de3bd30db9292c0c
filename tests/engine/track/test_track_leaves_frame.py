"""The shipped tracker on a real clip whose view pans the object out of the frame and back."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from tests.paths import shared_data
from vidseg.engine.track.polar_tracker import PolarTracker
from vidseg.eval.tracking import mask_box
from vidseg.io.frames import FolderSource
from vidseg.io.masks import read_mask
from vidseg.ops.boxes import Box


def _shift(t: int) -> int:
    """Pan: the car leaves to the left over frames 15-30, stays out, comes back over frames 45-60."""
    if t < 15:
        return 0
    if t < 30:
        return -(t - 15) * 70
    if t < 45:
        return -1050
    return min(0, -1050 + (t - 45) * 70)


@pytest.fixture
def one_torch_thread():
    """As run_track does: the small network is fastest on one thread (70 s vs 3 s on a busy machine)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_reports_lost_while_the_object_is_out_and_finds_it_again(one_torch_thread):
    root = shared_data("davis2016-train")
    source = FolderSource(root / "JPEGImages" / "car-turn")
    masks = sorted(Path(root / "Annotations" / "car-turn").glob("*.png"))
    frames, present = [], []
    for t in range(70):
        matrix = np.float32([[1, 0, _shift(t)], [0, 1, 0]])
        frames.append(cv2.warpAffine(source.read(t), matrix, (854, 480)))
        mask = cv2.warpAffine((read_mask(masks[t]).labels > 0).astype(np.uint8), matrix, (854, 480))
        present.append(mask_box(mask) is not None)
    tracker = PolarTracker("default")
    lost = [tracker.start(frames[0], Box.from_mask(read_mask(masks[0]).labels > 0)).lost]
    lost += [tracker.step(frame).lost for frame in frames[1:]]
    absent = [t for t, p in enumerate(present) if not p]           # frames 26-49
    assert not any(lost[:absent[0]])                               # followed while in view
    assert all(lost[absent[0] + 2:absent[-1] + 1])                 # lost within 2 frames of leaving
    assert not any(lost[absent[-1] + 4:])                          # found within 3 frames of returning
