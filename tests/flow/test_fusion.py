from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.flow.fusion import FlowFusion, FusionConfig, WarpedPrior
from vidseg.ops.slots import one_hot

H, W, SIDE = 240, 320, 80
TOP, LEFT = 70, 60


def texture(rng: np.random.Generator, h: int, w: int, blur: float) -> np.ndarray:
    """(h, w, 3) uint8 smooth random texture that DIS can track."""
    noise = rng.random((h, w, 3), dtype=np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), blur)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    return (40 + 180 * smooth).astype(np.uint8)


class Scene:
    """A textured square moving by (dx, dy) pixels per frame over a static textured background."""

    def __init__(self, dx: int = 6, dy: int = 2, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.dx, self.dy = dx, dy
        self.background = texture(rng, H, W, 4.0)
        self.patch = 255 - texture(rng, SIDE, SIDE, 4.0)

    def frame(self, t: int) -> np.ndarray:
        out = self.background.copy()
        top, left = TOP + t * self.dy, LEFT + t * self.dx
        out[top : top + SIDE, left : left + SIDE] = self.patch
        return out

    def mask(self, t: int) -> np.ndarray:
        out = np.zeros((H, W), bool)
        top, left = TOP + t * self.dy, LEFT + t * self.dx
        out[top : top + SIDE, left : left + SIDE] = True
        return out

    def shift(self, mask: np.ndarray) -> np.ndarray:
        """The true warp of a frame-t mask into frame t+1 (the square's motion)."""
        return np.roll(mask, (self.dy, self.dx), axis=(0, 1))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def probs_of(mask: np.ndarray) -> np.ndarray:
    return one_hot(mask.astype(np.uint8), 2)


def prior_for(scene: Scene, config: FusionConfig = FusionConfig()) -> WarpedPrior:
    fusion = FlowFusion(config)
    fusion.update(scene.frame(0), probs_of(scene.mask(0)))
    return fusion.warp_previous(scene.frame(1))


@pytest.mark.parametrize("block", [1, 8])
def test_warp_previous_moves_the_mask_to_the_new_place(block):
    scene = Scene()
    prior = prior_for(scene, FusionConfig(block=block))
    assert prior.probs.shape == (2, H, W) and prior.probs.dtype == np.float32
    assert prior.reliability.shape == (H, W) and prior.reliability.dtype == np.float32
    assert prior.flow.shape == (H // 2, W // 2, 2)  # flow grid at scale 0.5
    np.testing.assert_allclose(prior.probs.sum(axis=0), 1.0, atol=1e-5)
    assert iou(prior.probs[1] > 0.5, scene.mask(1)) > 0.9


def test_reliability_is_low_where_the_background_was_uncovered():
    scene = Scene(dx=8, dy=0)
    prior = prior_for(scene)
    assert 0.0 <= prior.reliability.min() and prior.reliability.max() <= 1.0
    strip = np.zeros((H, W), bool)  # behind the square in frame 0, visible in frame 1
    strip[TOP + 4 : TOP + SIDE - 4, LEFT : LEFT + 8] = True
    assert prior.reliability[strip].mean() < 0.3
    far = np.zeros((H, W), bool)
    far[:, 200:300] = True
    far[TOP - 10 : TOP + SIDE + 10] = False
    assert prior.reliability[far].mean() > 0.9


def test_reliability_is_zero_where_content_comes_from_outside():
    pan = 10
    wide = texture(np.random.default_rng(3), H, W + pan, 4.0)
    fusion = FlowFusion(FusionConfig(occlusion=False))
    fusion.update(wide[:, pan:], probs_of(Scene().mask(0)))
    prior = fusion.warp_previous(wide[:, :W])  # the camera pans left: new content on the left
    assert np.abs(prior.flow[4:-4, 8:-4, 0] * 2 + pan).mean() < 0.5
    assert prior.reliability[:, : pan - 2].max() == 0.0
    assert prior.reliability[4:-4, pan + 4 :].min() > 0.99
    assert np.all(prior.probs[0, :, : pan - 2] == 1.0)  # nothing known there: background


def test_confident_network_is_kept_and_uncertain_one_follows_the_prior():
    scene = Scene()
    fusion = FlowFusion()
    fusion.update(scene.frame(0), probs_of(scene.mask(0)))
    prior = fusion.warp_previous(scene.frame(1))
    # A confident network that disagrees with the prior everywhere still wins everywhere.
    confident = probs_of(~scene.mask(1))
    np.testing.assert_allclose(fusion.fuse(confident, prior), confident, atol=1e-6)
    uncertain = np.full((2, H, W), 0.5, np.float32)
    fused = fusion.fuse(uncertain, prior)
    np.testing.assert_allclose(fused.sum(axis=0), 1.0, atol=1e-5)
    reliable = prior.reliability > 0.99
    assert reliable.mean() > 0.8
    assert np.abs(fused[:, reliable] - prior.probs[:, reliable]).max() < 0.06
    assert np.array_equal(fused[1, reliable] > 0.5, prior.probs[1, reliable] > 0.5)
    # Unreliable pixels keep the network's answer.
    assert np.allclose(fused[:, prior.reliability == 0], 0.5)


def test_more_objects_in_the_network_than_in_the_prior():
    scene = Scene()
    fusion = FlowFusion()
    fusion.update(scene.frame(0), probs_of(scene.mask(0)))
    prior = fusion.warp_previous(scene.frame(1))
    slots = scene.mask(1).astype(np.uint8)
    slots[:20, :20] = 2  # a new object
    fused = fusion.fuse(one_hot(slots, 3), prior)
    assert fused.shape == (3, H, W)
    np.testing.assert_allclose(fused.sum(axis=0), 1.0, atol=1e-5)
    assert np.array_equal(fused.argmax(axis=0), slots)
    fusion.update(scene.frame(1), fused)
    assert fusion.warp_previous(scene.frame(2)).probs.shape == (3, H, W)
    with pytest.raises(InputError):
        fusion.fuse(np.full((1, H, W), 1.0, np.float32), fusion.warp_previous(scene.frame(2)))


def test_shapes_are_checked_and_order_is_enforced():
    fusion = FlowFusion()
    with pytest.raises(RuntimeError):
        fusion.warp_previous(np.zeros((H, W, 3), np.uint8))
    with pytest.raises(InputError):
        fusion.update(np.zeros((H, W + 1, 3), np.uint8), np.ones((1, H, W), np.float32))
    fusion.update(np.zeros((H, W, 3), np.uint8), np.ones((1, H, W), np.float32))
    assert fusion.has_previous
    with pytest.raises(InputError):
        fusion.warp_previous(np.zeros((H + 2, W, 3), np.uint8))
    fusion.reset()
    assert not fusion.has_previous


@pytest.mark.parametrize("kwargs", [{"block": 0}, {"prior_weight": 1.5}, {"flow_mode": "slow"}, {"scale": 0.0}])
def test_bad_config_is_refused(kwargs):
    with pytest.raises(InputError):
        FusionConfig(**kwargs)


def noisy_network(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Soft (2, H, W) output of a jittery per-frame model: the true boundary, moved by a few pixels
    in random smooth waves that change every frame, and unsure within a few pixels of it."""
    inside = cv2.distanceTransform(truth.astype(np.uint8), cv2.DIST_L2, 5)
    outside = cv2.distanceTransform((~truth).astype(np.uint8), cv2.DIST_L2, 5)
    signed = inside - outside
    wobble = cv2.resize(rng.normal(0.0, 2.5, (6, 8)).astype(np.float32), (W, H), interpolation=cv2.INTER_CUBIC)
    fg = 1.0 / (1.0 + np.exp(-np.clip(signed + wobble, -60, 60) / 2.0))
    return np.stack([1.0 - fg, fg]).astype(np.float32)


def flicker(masks: list[np.ndarray], scene: Scene) -> float:
    """Mean 1 - IoU between each mask and the previous one carried by the true motion."""
    return float(np.mean([1.0 - iou(m, scene.shift(p)) for p, m in zip(masks, masks[1:])]))


def test_fusion_reduces_flicker_without_losing_accuracy():
    scene, rng = Scene(dx=4, dy=2, seed=1), np.random.default_rng(7)
    fusion = FlowFusion()
    raw, fused = [], []
    for t in range(10):
        frame, net = scene.frame(t), noisy_network(scene.mask(t), rng)
        out = fusion.fuse(net, fusion.warp_previous(frame)) if fusion.has_previous else net
        np.testing.assert_allclose(out.sum(axis=0), 1.0, atol=1e-5)
        fusion.update(frame, out)
        raw.append(net[1] > 0.5)
        fused.append(out[1] > 0.5)
    raw_flicker, fused_flicker = flicker(raw, scene), flicker(fused, scene)
    assert fused_flicker < 0.7 * raw_flicker, (raw_flicker, fused_flicker)
    raw_iou = np.mean([iou(m, scene.mask(t)) for t, m in enumerate(raw)])
    fused_iou = np.mean([iou(m, scene.mask(t)) for t, m in enumerate(fused)])
    assert fused_iou > raw_iou - 0.02, (raw_iou, fused_iou)


@pytest.mark.parametrize("power, expected", [(1.0, 0.9 * 0.5), (0.5, 0.9 * np.sqrt(0.5)), (0.0, 0.9)])
def test_confidence_power_sets_how_much_a_fairly_sure_network_yields(power, expected):
    """Network 0.75 (confidence 0.5) against a reliable prior of 0: the prior's weight is
    prior_weight * (1 - c) ** power, so the fused value is 0.75 * (1 - weight)."""
    prior = WarpedPrior(probs=np.stack([np.ones((4, 4)), np.zeros((4, 4))]).astype(np.float32),
                        reliability=np.ones((4, 4), np.float32), flow=np.zeros((4, 4, 2), np.float32))
    net = np.stack([np.full((4, 4), 0.25), np.full((4, 4), 0.75)]).astype(np.float32)
    fused = FlowFusion(FusionConfig(prior_weight=0.9, confidence_power=power)).fuse(net, prior)
    assert np.allclose(fused[1], 0.75 * (1.0 - expected), atol=1e-5)


def test_confidence_power_must_not_be_negative():
    with pytest.raises(InputError, match="confidence_power"):
        FusionConfig(confidence_power=-0.5)
