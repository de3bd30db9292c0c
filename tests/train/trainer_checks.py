"""What every trainer test checks: a tiny run writes its weights and log, and resumes where it stopped."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from vidseg.data.synthetic import ClipConfig, render_clip, write_clip


def train_and_resume(tmp_path: Path, config_class: type, train: Callable, model: object, weights: str, **extra):
    """Train ``model`` 2 steps on a rendered clip, then resume to step 3, checking the log each time.

    config_class: the trainer's config dataclass; train: its train function. Returns (clip, config
    of the first run) for the trainer's own checks of the weights at ``config.out``. ``extra``: more
    fields of the config."""
    clip = render_clip(ClipConfig(height=72, width=96, num_frames=4, num_objects=1, seed=2))
    write_clip(clip, tmp_path / "data", "clip")
    config = config_class(data=tmp_path / "data", out=tmp_path / "run" / weights, sequences=("clip",),
                          steps=2, batch_size=2, workers=0, save_every=1, log_every=1, scale=1.0,
                          warmup=1, model=model, **extra)
    assert train(config) == config.out
    rows = [json.loads(line) for line in config.log_path.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and all(np.isfinite(r["loss"]) for r in rows)
    train(replace(config, steps=3))  # resumes at step 2
    assert [json.loads(line)["step"] for line in config.log_path.read_text().splitlines()] == [1, 2, 3]
    return clip, config


def write_photos(root, count=3, size=(90, 120)):
    """``root``/set/images/<n>.jpg and masks/<n>.png: a bright square on noise."""
    rng = np.random.default_rng(0)
    (root / "set" / "images").mkdir(parents=True)
    (root / "set" / "masks").mkdir()
    for n in range(count):
        image = rng.integers(0, 100, (*size, 3), dtype=np.uint8)
        mask = np.zeros(size, np.uint8)
        mask[20 + n:60, 30:80 + n] = 1
        image[mask > 0] = 220
        Image.fromarray(image).save(root / "set" / "images" / f"{n}.jpg")
        Image.fromarray(mask * 255).save(root / "set" / "masks" / f"{n}.png")
    return root
