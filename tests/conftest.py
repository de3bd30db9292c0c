from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _training_cache_in_tmp(tmp_path_factory, monkeypatch):
    """Trainers cache decoded footage in one shared folder; in tests that is a temporary one, not ~/.cache."""
    monkeypatch.setenv("VIDSEG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "vidseg-cache"))


@pytest.fixture(scope="session")
def small_clip():
    """A rendered 3-object clip with ground truth, small enough for fast tests."""
    from vidseg.data import ClipConfig, render_clip

    return render_clip(ClipConfig(height=240, width=428, num_frames=12, num_objects=3, seed=3))


@pytest.fixture(scope="session")
def small_clip_root(small_clip, tmp_path_factory) -> Path:
    """``small_clip`` written as a DAVIS layout; returns the root (JPEGImages/, Annotations/)."""
    from vidseg.data import write_clip

    root = tmp_path_factory.mktemp("clip")
    write_clip(small_clip, root, name="clip")
    return root


@pytest.fixture
def no_shipped_weights(tmp_path, monkeypatch):
    """The registry sees an empty weights folder, as after a broken install."""
    from vidseg.nn import registry

    empty = tmp_path / "no-weights"
    empty.mkdir()
    monkeypatch.setattr(registry, "weights_dir", lambda: empty)
    registry._load_shipped.cache_clear()
    yield
    registry._load_shipped.cache_clear()
