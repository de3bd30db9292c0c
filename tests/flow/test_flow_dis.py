from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.flow import DIS_MODES, FlowConfig, backward_warp, dense_flow, endpoint_error, load_middlebury_pairs

MIDDLEBURY = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "flow" / "middlebury"

# Mean EPE over the 8 pairs with ground truth, measured at full resolution (OpenCV 5.0):
# ultrafast 0.88, fast 0.75, medium 0.61; the zero-flow baseline is 4.19.
MAX_MEAN_EPE = {"ultrafast": 1.05, "fast": 0.9, "medium": 0.75}


def shifted_texture(dx: int, dy: int, h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed noise ``src`` and ``dst`` with ``dst(x + (dx, dy)) = src(x)``."""
    noise = np.random.default_rng(0).random((h + 40, w + 40)).astype(np.float32)
    texture = cv2.GaussianBlur(noise, (0, 0), 2.0)
    texture = (255 * (texture - texture.min()) / np.ptp(texture)).astype(np.uint8)
    src = texture[20 : 20 + h, 20 : 20 + w]
    dst = texture[20 - dy : 20 - dy + h, 20 - dx : 20 - dx + w]
    return np.stack([src] * 3, axis=-1), np.stack([dst] * 3, axis=-1)


@pytest.mark.parametrize("preset", DIS_MODES)
@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_dis_recovers_a_translation(preset, scale):
    src, dst = shifted_texture(3, -2)
    flow = dense_flow(src, dst, FlowConfig(preset, scale))
    assert flow.shape == (120, 160, 2) and flow.dtype == np.float32
    inner = flow[16:-16, 16:-16]
    np.testing.assert_allclose(np.median(inner.reshape(-1, 2), axis=0), [3.0, -2.0], atol=0.3)


def test_warping_dst_by_flow_reconstructs_src():
    src, dst = shifted_texture(3, -2)
    flow = dense_flow(src[..., 0], dst[..., 0])
    warped = backward_warp(dst[..., 0], flow)
    err = np.abs(warped - src[..., 0].astype(np.float32))[16:-16, 16:-16]
    assert np.median(err) < 2.0


def test_tiny_and_wide_frames_do_not_crash():
    # OpenCV's DIS segfaults on e.g. 12x40; dense_flow pads such frames.
    rng = np.random.default_rng(0)
    for shape in [(12, 40), (5, 7), (28, 512)]:
        a = rng.integers(0, 255, shape, dtype=np.uint8)
        assert dense_flow(a, a).shape == (*shape, 2)


@pytest.mark.parametrize("preset", DIS_MODES)
def test_a_small_frame_does_not_change_later_results(preset):
    # OpenCV lowers a DIS object's finest scale after a small image; dense_flow must undo that.
    src, dst = shifted_texture(3, -2, h=240, w=320)
    before = dense_flow(src, dst, FlowConfig(preset))
    tiny = np.zeros((20, 20), np.uint8)
    dense_flow(tiny, tiny, FlowConfig(preset))
    np.testing.assert_array_equal(dense_flow(src, dst, FlowConfig(preset)), before)


def test_bad_inputs():
    with pytest.raises(InputError, match="mode"):
        FlowConfig(mode="slow")
    with pytest.raises(InputError):
        FlowConfig(scale=0.0)
    with pytest.raises(InputError):
        dense_flow(np.zeros((32, 32), np.uint8), np.zeros((32, 33), np.uint8))
    with pytest.raises(InputError):
        dense_flow(np.zeros((32, 32), np.float32), np.zeros((32, 32), np.float32))


def test_middlebury_epe_per_preset():
    if not MIDDLEBURY.is_dir():
        pytest.skip(f"Middlebury data not found at {MIDDLEBURY}")
    pairs = load_middlebury_pairs(MIDDLEBURY)
    assert len(pairs) == 8
    table = {p: [endpoint_error(dense_flow(q.frame10, q.frame11, FlowConfig(p)), q.gt) for q in pairs] for p in DIS_MODES}
    print(f"\n{'pair':<12}" + "".join(f"{p:>10}" for p in DIS_MODES))
    for i, pair in enumerate(pairs):
        print(f"{pair.name:<12}" + "".join(f"{table[p][i]:>10.3f}" for p in DIS_MODES))
    means = {p: float(np.mean(v)) for p, v in table.items()}
    print(f"{'mean':<12}" + "".join(f"{means[p]:>10.3f}" for p in DIS_MODES))
    for preset, limit in MAX_MEAN_EPE.items():
        assert means[preset] < limit, f"{preset}: mean EPE {means[preset]:.3f} >= {limit}"
    assert means["medium"] <= means["fast"] <= means["ultrafast"]
