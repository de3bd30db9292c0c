"""MediaPipe's selfie segmenter behind vidseg[portrait]: loaded without the dependencies it does not
use, quiet, finds a person in real footage and none in an empty scene. Skips without MediaPipe,
except the test of the message a user without it gets."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from PIL import Image

from tests.paths import shared_data
from vidseg.engine.portrait import selfie
from vidseg.errors import InputError

needs_mediapipe = pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None,
                                     reason="mediapipe is not installed (the vidseg[portrait] extra)")


def test_missing_mediapipe_says_how_to_install(monkeypatch):
    monkeypatch.delitem(sys.modules, selfie._SELFIE, raising=False)
    monkeypatch.delitem(sys.modules, "mediapipe", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(InputError, match=r"pip install --no-deps mediapipe==0\.10\.14"):
        selfie.SelfieSegmenter()


def test_unknown_model_name_is_refused():
    with pytest.raises(InputError, match="landscape"):
        selfie.SelfieSegmenter("portrait")


@pytest.fixture(scope="module")
def segmenter():
    with selfie.SelfieSegmenter("landscape") as model:
        yield model


@needs_mediapipe
def test_loads_quietly_without_matplotlib_jax_or_all_of_mediapipe(capfd):
    with selfie.SelfieSegmenter("general") as model:
        model(np.zeros((32, 48, 3), np.uint8))
    _, err = capfd.readouterr()
    assert err == ""  # MediaPipe's C++ start-up logs are hidden
    assert "matplotlib" not in sys.modules and "jax" not in sys.modules
    assert "mediapipe" not in sys.modules or hasattr(sys.modules["mediapipe"], "solutions")  # no stand-in left


@needs_mediapipe
def test_an_empty_scene_has_no_person(segmenter):
    rng = np.random.default_rng(0)
    scene = rng.integers(90, 110, size=(120, 200, 3)).astype(np.uint8)
    prob = segmenter(scene)
    assert prob.shape == (120, 200) and prob.dtype == np.float32
    assert 0.0 <= prob.min() and prob.max() <= 1.0
    assert (prob >= 0.5).mean() < 0.01


@needs_mediapipe
def test_finds_the_person_in_real_footage(segmenter):
    root = shared_data("davis2016-train")
    frame = np.asarray(Image.open(root / "JPEGImages" / "lucia" / "00020.jpg").convert("RGB"))
    truth = np.asarray(Image.open(root / "Annotations" / "lucia" / "00020.png")) > 0
    mask = segmenter(frame) >= 0.5
    assert (mask & truth).sum() / (mask | truth).sum() > 0.7  # measured 0.84


@needs_mediapipe
def test_wrong_frames_are_refused(segmenter):
    with pytest.raises(InputError, match="uint8"):
        segmenter(np.zeros((10, 10), np.uint8))
