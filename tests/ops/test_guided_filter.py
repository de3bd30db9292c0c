from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.ops.guided_filter import guided_upsample

H, W = 240, 320


def sharp_scene() -> tuple[np.ndarray, np.ndarray]:
    """A high-contrast RGB image (H, W, 3) uint8 of an ellipse and a bar, and its true mask (H, W) bool."""
    yy, xx = np.mgrid[:H, :W]
    ellipse = ((yy - 120) / 70.0) ** 2 + ((xx - 150) / 90.0) ** 2 < 1
    bar = (np.abs(xx - 262) < 10) & (np.abs(yy - 120) < 90)
    truth = ellipse | bar
    colour = np.where(truth[..., None], [220, 200, 60], [30, 50, 90]).astype(np.float32)
    noisy = colour + np.random.default_rng(0).normal(0.0, 6.0, (H, W, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8), truth


def boundary_error(soft: np.ndarray, truth: np.ndarray, width: int = 4) -> float:
    """Mean |soft - truth| within ``width`` pixels of the true boundary."""
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    t = truth.astype(np.uint8)
    band = cv2.dilate(t, kernel) != cv2.erode(t, kernel)
    return float(np.abs(soft - truth)[band].mean())


def reference_guided_filter(p: np.ndarray, guide: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter at one resolution, written with explicit windows (reflected borders)."""
    pad = lambda x: np.pad(x, radius, mode="symmetric")  # noqa: E731 - the same as BORDER_REFLECT

    def mean(x: np.ndarray) -> np.ndarray:
        padded, size = pad(x), 2 * radius + 1
        windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size))
        return windows.mean(axis=(-1, -2))

    mean_i, mean_p = mean(guide), mean(p)
    a = (mean(guide * p) - mean_i * mean_p) / (mean(guide * guide) - mean_i**2 + eps)
    b = mean_p - a * mean_i
    return mean(a) * guide + mean(b)


def test_same_resolution_matches_the_reference_filter():
    rng = np.random.default_rng(1)
    guide = rng.integers(0, 256, (12, 15), dtype=np.uint8)
    p = rng.random((12, 15)).astype(np.float32) * 0.5 + 0.25
    out = guided_upsample(p[None], guide, radius=2, eps=0.01)[0]
    expected = np.clip(reference_guided_filter(p.astype(np.float64), guide / 255.0, 2, 0.01), 0, 1)
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_edges_come_out_sharper_than_bilinear():
    image, truth = sharp_scene()
    low = cv2.resize(truth.astype(np.float32), (W // 4, H // 4), interpolation=cv2.INTER_AREA)
    low = cv2.GaussianBlur(low, (0, 0), 1.0)  # a blurry low-resolution prediction
    bilinear = cv2.resize(low, (W, H), interpolation=cv2.INTER_LINEAR)
    guided = guided_upsample(low[None], image, radius=8, eps=1e-3)[0]
    assert boundary_error(guided, truth) < 0.5 * boundary_error(bilinear, truth)
    assert np.sum((guided > 0.5) != truth) < 0.2 * np.sum((bilinear > 0.5) != truth)


@pytest.mark.parametrize("value", [0.0, 0.3, 1.0])
def test_constant_input_stays_constant(value):
    image, _ = sharp_scene()
    out = guided_upsample(np.full((1, 60, 80), value, np.float32), image, radius=4, eps=1e-3)
    np.testing.assert_allclose(out, value, atol=1e-5)


@pytest.mark.parametrize("grey", [False, True])
def test_shape_dtype_range(grey):
    image, _ = sharp_scene()
    guide = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if grey else image
    low = np.random.default_rng(2).random((3, 60, 80)).astype(np.float64) * 1.4 - 0.2
    out = guided_upsample(low, guide, radius=4, eps=1e-3)
    assert out.shape == (3, H, W) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_several_channels_sum_to_one():
    image, truth = sharp_scene()
    slots = truth.astype(np.uint8)
    slots[:, :100] *= 2  # the left part of the object is a second object
    probs = np.stack([slots == k for k in range(3)]).astype(np.float32)
    low = np.stack([cv2.resize(p, (W // 4, H // 4), interpolation=cv2.INTER_AREA) for p in probs])
    out = guided_upsample(low, image, radius=8, eps=1e-3)
    np.testing.assert_allclose(out.sum(axis=0), 1.0, atol=1e-5)
    assert np.mean(out.argmax(axis=0) == slots) > 0.99


def test_bad_inputs_are_refused():
    image, _ = sharp_scene()
    with pytest.raises(InputError):
        guided_upsample(np.zeros((60, 80), np.float32), image, 4, 1e-3)  # no channel axis
    with pytest.raises(InputError):
        guided_upsample(np.zeros((1, 60, 80), np.float32), image.astype(np.float32), 4, 1e-3)
    with pytest.raises(InputError):
        guided_upsample(np.zeros((1, 300, 400), np.float32), image, 4, 1e-3)  # guide smaller
    with pytest.raises(InputError):
        guided_upsample(np.zeros((1, 60, 80), np.float32), image, 0, 1e-3)


def test_two_probability_channels_are_the_one_channel_result_and_its_complement():
    image, truth = sharp_scene()
    low = cv2.resize(truth.astype(np.float32), (W // 4, H // 4), interpolation=cv2.INTER_AREA)
    single = guided_upsample(low[None], image, radius=8, eps=1e-3)[0]
    pair = guided_upsample(np.stack([1.0 - low, low]), image, radius=8, eps=1e-3)
    np.testing.assert_allclose(pair[1], single, atol=1e-5)
    np.testing.assert_allclose(pair.sum(axis=0), 1.0, atol=1e-6)
