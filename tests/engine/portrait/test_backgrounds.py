"""Background replacement: option parsing, soft alpha, colour/image/blur backgrounds, bad images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vidseg.engine.portrait.backgrounds import DEFAULT_BLUR, BackgroundSpec, Compositor, masked_blur, parse_color, soft_alpha
from vidseg.errors import InputError


def test_options_default_to_a_blur_and_take_one_background():
    assert BackgroundSpec.from_options() == BackgroundSpec(blur=DEFAULT_BLUR)
    assert BackgroundSpec.from_options(blur="4.5").blur == 4.5
    assert BackgroundSpec.from_options(color="0,177,64").color == (0, 177, 64)
    with pytest.raises(InputError, match="at most one"):
        BackgroundSpec.from_options(image="bg.png", blur="3")
    with pytest.raises(InputError, match="--blur"):
        BackgroundSpec.from_options(blur="lots")
    with pytest.raises(InputError, match="blur"):
        BackgroundSpec.from_options(blur="0")
    with pytest.raises(InputError):
        BackgroundSpec()


@pytest.mark.parametrize("text", ["1,2", "1,2,3,4", "a,b,c", "0,0,256", "-1,0,0", ""])
def test_bad_colours_are_refused(text):
    with pytest.raises(InputError, match="R,G,B"):
        parse_color(text)


def test_parse_colour():
    assert parse_color("255, 0,10") == (255, 0, 10)


def test_soft_alpha_ramps_around_one_half():
    person = np.array([[0.0, 0.3, 0.5, 0.7, 1.0]], np.float32)
    assert np.allclose(soft_alpha(person, feather=0), [[0.0, 0.0, 0.5, 1.0, 1.0]], atol=1e-6)
    feathered = soft_alpha(np.pad(np.ones((10, 10), np.float32), 10), feather=1.5)
    assert feathered[15, 15] > 0.99 and feathered[0, 0] < 0.01 and 0.2 < feathered[10, 15] < 0.8


def frame_and_person(height=40, width=60):
    frame = np.full((height, width, 3), 30, np.uint8)
    person = np.zeros((height, width), np.float32)
    person[10:30, 20:40] = 1.0
    frame[10:30, 20:40] = (240, 200, 10)
    return frame, person


def test_colour_background_replaces_everything_but_the_person():
    frame, person = frame_and_person()
    out = Compositor(BackgroundSpec(color=(0, 177, 64)), 40, 60, feather=0)(frame, person)
    assert out.dtype == np.uint8 and out.shape == frame.shape
    assert np.array_equal(out[0, 0], [0, 177, 64]) and np.array_equal(out[20, 30], [240, 200, 10])


def test_image_background(tmp_path):
    frame, person = frame_and_person()
    background = np.random.default_rng(0).integers(0, 255, (40, 60, 3)).astype(np.uint8)
    Image.fromarray(background).save(tmp_path / "bg.png")
    out = Compositor(BackgroundSpec(image=tmp_path / "bg.png"), 40, 60, feather=0)(frame, person)
    assert np.array_equal(out[:5], background[:5]) and np.array_equal(out[20, 30], [240, 200, 10])


def test_background_image_of_another_size_is_refused(tmp_path):
    Image.new("RGB", (61, 40)).save(tmp_path / "bg.png")
    with pytest.raises(InputError, match=r"61x40 but the video is 60x40"):
        Compositor(BackgroundSpec(image=tmp_path / "bg.png"), 40, 60)


def test_unreadable_or_missing_background_image_is_refused(tmp_path):
    (tmp_path / "bg.png").write_bytes(b"not an image")
    with pytest.raises(InputError, match="cannot read background image"):
        Compositor(BackgroundSpec(image=tmp_path / "bg.png"), 40, 60)
    with pytest.raises(InputError, match="does not exist"):
        Compositor(BackgroundSpec(image=tmp_path / "missing.png"), 40, 60)


def test_blurred_background_has_no_halo_of_the_person():
    frame, person = frame_and_person()
    blurred = masked_blur(frame, person, sigma=6.0)
    assert np.abs(blurred[5, 30].astype(int) - 30).max() <= 2  # just above the person: still the dark scene
    out = Compositor(BackgroundSpec(blur=6.0), 40, 60)(frame, person)
    assert np.abs(out[5, 30].astype(int) - 30).max() <= 2 and np.abs(out[20, 30].astype(int) - [240, 200, 10]).max() <= 2


def test_large_blur_runs_downscaled_and_keeps_the_size():
    frame = np.random.default_rng(1).integers(0, 255, (37, 53, 3)).astype(np.uint8)
    out = masked_blur(frame, np.zeros((37, 53), np.float32), sigma=40.0)
    assert out.shape == frame.shape and out.dtype == np.uint8 and out.std() < frame.std() / 4


def test_frames_of_another_size_are_refused():
    with pytest.raises(InputError, match="compositor"):
        Compositor(BackgroundSpec(color=(0, 0, 0)), 40, 60)(np.zeros((40, 61, 3), np.uint8), np.zeros((40, 61), np.float32))
