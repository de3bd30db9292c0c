"""PortraitPipeline with a stand-in person model: fusion steadies a flickering model, no person
gives an empty mask, bad frames are refused."""

from __future__ import annotations

import numpy as np
import pytest

from tests.portrait_fakes import RedPersonModel, person_frames, person_truth
from vidseg.engine.portrait.pipeline import PortraitConfig, PortraitPipeline
from vidseg.errors import InputError


def run(model, frames, **config):
    with PortraitPipeline(model, PortraitConfig(**config)) as pipeline:
        return [pipeline.step(frame) for frame in frames]


def test_no_person_gives_empty_masks_not_a_crash():
    frames = person_frames(4, absent=(0, 1, 2, 3))
    for fusion in (True, False):
        results = run(RedPersonModel(), frames, fusion=fusion)
        assert all(r.mask.dtype == np.uint8 and r.mask.shape == (48, 64) and not r.mask.any() for r in results)


def test_person_found_and_absent_frames_in_between():
    frames = person_frames(6, absent=(3,))
    results = run(RedPersonModel(), frames)
    for t, (frame, result) in enumerate(zip(frames, results)):
        truth = person_truth(frame)
        if t == 3:
            assert result.mask.sum() < 10  # the person left: the prior does not keep a ghost
        else:
            assert (result.mask.astype(bool) == truth).mean() > 0.97


def test_without_fusion_the_mask_is_the_models():
    frames = person_frames(3)
    model = RedPersonModel(noise=0.3)
    results = run(model, frames, fusion=False)
    assert all(r.person is r.raw for r in results)
    assert np.array_equal(results[1].mask, (results[1].raw >= 0.5).astype(np.uint8))


def test_fusion_steadies_a_flickering_model():
    frames = person_frames(10)
    raw_errors, fused_errors = [], []
    for fusion, errors in ((False, raw_errors), (True, fused_errors)):
        for frame, result in zip(frames, run(RedPersonModel(noise=0.55, seed=1), frames, fusion=fusion)):
            errors.append((result.mask.astype(bool) != person_truth(frame)).mean())
    assert np.mean(fused_errors[2:]) < 0.6 * np.mean(raw_errors[2:])


@pytest.mark.parametrize("work_height", [0, 24])
def test_a_confident_model_is_kept_exactly_away_from_edges(work_height):
    frames = person_frames(3)
    results = run(RedPersonModel(), frames, work_height=work_height)
    interior = np.zeros((48, 64), bool)
    interior[16:32, 18:26] = True  # well inside the person in every frame (it moves 2 px a frame)
    background = np.zeros((48, 64), bool)
    background[:, 50:] = True
    for result in results:  # mask 3 weighs a little here (confidence_power 0.5) but agrees with the model
        assert np.allclose(result.person[interior], result.raw[interior], atol=1e-4)
        assert np.allclose(result.person[background], result.raw[background], atol=1e-4)


def test_frames_must_keep_their_size_and_type():
    with PortraitPipeline(RedPersonModel()) as pipeline:
        pipeline.step(person_frames(1)[0])
        with pytest.raises(InputError, match="size changed"):
            pipeline.step(person_frames(1, height=40)[0])
        with pytest.raises(InputError, match="uint8"):
            pipeline.step(np.zeros((48, 64, 3), np.float32))
        pipeline.reset()
        assert pipeline.step(person_frames(1, height=40)[0]).mask.shape == (40, 64)


def test_a_model_of_the_wrong_shape_is_a_bug_not_an_input_error():
    class Wrong(RedPersonModel):
        def __call__(self, frame):
            return np.zeros((3, 3), np.float32)

    with PortraitPipeline(Wrong()) as pipeline, pytest.raises(ValueError, match="shape"):
        pipeline.step(person_frames(1)[0])


def test_closing_the_pipeline_closes_the_model():
    model = RedPersonModel()
    with PortraitPipeline(model):
        pass
    assert model.closed


def test_config_is_checked():
    with pytest.raises(InputError):
        PortraitConfig(threshold=1.0)
    with pytest.raises(InputError):
        PortraitConfig(work_height=-1)
