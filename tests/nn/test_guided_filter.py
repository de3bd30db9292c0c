import numpy as np
import torch

from vidseg.nn.guided_filter import grey, guided_upsample
from vidseg.ops import guided_filter


def _scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A 64x64 RGB image of a bright disk on noise and a blurred 32x32 mask of it, a little off."""
    yy, xx = np.mgrid[:64, :64]
    disk = (xx - 30) ** 2 + (yy - 34) ** 2 < 18 ** 2
    image = rng.integers(0, 60, (64, 64, 3)).astype(np.uint8)
    image[disk] = (220, 200, 180)
    low = (((xx[::2, ::2] - 33) ** 2 + (yy[::2, ::2] - 32) ** 2) < 17 ** 2).astype(np.float32)
    return image, low


def test_the_torch_filter_matches_the_one_inference_runs() -> None:
    image, low = _scene(np.random.default_rng(0))
    for radius in (2, 4):
        expected = guided_filter.guided_upsample(low[None], image, radius, 1e-3)[0]
        # The numpy filter fits on cv2's uint8 grey; the same grey here, as a float in [0, 1].
        guide = torch.from_numpy(guided_filter._guide_grey(image))[None, None]
        got = guided_upsample(torch.from_numpy(low)[None, None], guide, radius // 2, 1e-3)
        np.testing.assert_allclose(got.clamp(0, 1)[0, 0].numpy(), expected, atol=2e-4)


def test_the_filter_snaps_an_outline_to_the_image_edge_and_passes_gradients() -> None:
    image, low = _scene(np.random.default_rng(1))
    rgb = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    probs = torch.from_numpy(low)[None, None].requires_grad_(True)
    out = guided_upsample(probs, grey(rgb), 1, 1e-3)
    yy, xx = np.mgrid[:64, :64]
    disk = torch.from_numpy(((xx - 30) ** 2 + (yy - 34) ** 2 < 18 ** 2).astype(np.float32))
    bilinear = torch.nn.functional.interpolate(probs, size=(64, 64), mode="bilinear", align_corners=False)
    wrong = ((out[0, 0] > 0.5) != (disk > 0.5)).sum()
    assert wrong < ((bilinear[0, 0] > 0.5) != (disk > 0.5)).sum()
    out.sum().backward()
    assert probs.grad is not None and probs.grad.abs().sum() > 0


def test_grey_weighs_rgb_as_the_inference_guide_does() -> None:
    image = np.random.default_rng(2).integers(0, 256, (8, 8, 3)).astype(np.uint8)
    rgb = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    np.testing.assert_allclose(grey(rgb)[0, 0].numpy(), guided_filter._guide_grey(image), atol=1 / 255)
