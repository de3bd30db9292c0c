"""Fixtures of the web application's tests: a rendered clip as an mp4, an app on a fresh data folder."""

from __future__ import annotations

import importlib.util
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest



WEB_MODULES = ("fastapi", "uvicorn", "httpx", "playwright")
WEB_TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items) -> None:
    """Without the web-test extra these tests are skipped, except in CI (CI=true), which installs it
    and must run them: there a missing module fails them."""
    missing = [m for m in WEB_MODULES if importlib.util.find_spec(m) is None]
    if not missing or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"{', '.join(missing)} missing: pip install -e '.[web-test]'")
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(WEB_TESTS):
            item.add_marker(skip)


BASE_URL = "http://127.0.0.1:8000"  # the Host a loopback server accepts


@dataclass(frozen=True)
class Clip:
    video: Path  # an mp4 of the frames
    labels: np.ndarray  # (T, H, W) uint8 ground truth, one object (id 1)

    def centre(self, frame: int) -> tuple[float, float]:
        """A point well inside the object on ``frame``: the pixel farthest from its boundary."""
        import cv2

        inside = (self.labels[frame] == 1).astype(np.uint8)
        distance = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
        y, x = np.unravel_index(int(np.argmax(distance)), distance.shape)
        return float(x), float(y)

    def box(self, frame: int) -> tuple[int, int, int, int]:
        ys, xs = np.nonzero(self.labels[frame] == 1)
        return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def disc_clip(num_frames: int = 12, height: int = 240, width: int = 320) -> tuple[np.ndarray, np.ndarray]:
    """A red disc moving over a smooth coloured background, with a little noise: (T, H, W, 3) frames and
    (T, H, W) labels. An object the shipped click network selects from one click (IoU ~0.95), so the
    tests can check masks, not just files."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:height, :width]
    background = np.dstack([60 + 40 * np.sin(xx / 17.0), 90 + 30 * np.cos(yy / 23.0),
                            110 + 20 * np.sin((xx + yy) / 31.0)]).astype(np.float32)
    frames, labels = [], []
    for t in range(num_frames):
        inside = (xx - 100 - 6 * t) ** 2 + (yy - 120 - 2 * t) ** 2 < 45**2
        frame = background.copy()
        frame[inside] = (220, 60, 40)
        frame += rng.normal(0, 3, frame.shape)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
        labels.append(inside.astype(np.uint8))
    return np.stack(frames), np.stack(labels)


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Clip:
    """12 frames of ``disc_clip`` as an H.264 mp4."""
    from vidseg.io.writers import write_video

    frames, labels = disc_clip()
    return Clip(write_video(tmp_path_factory.mktemp("video") / "clip.mp4", frames, fps=12), labels)


def make_client(data: Path, method: str = "static", **options):
    with warnings.catch_warnings():  # starlette's TestClient asks for httpx2, which changes nothing here
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from vidseg.web.app import ServeConfig, create_app

    return TestClient(create_app(ServeConfig(data=data, method=method, **options)), base_url=BASE_URL)


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path / "data") as c:
        yield c


def upload(client, clip: Clip, name: str = "clip.mp4") -> dict:
    response = client.post(f"/api/upload?name={name}", content=clip.video.read_bytes(),
                           headers={"content-type": "video/mp4"})
    assert response.status_code == 200, response.text
    return response.json()


def wait_job(client, project_id: int, timeout: float = 60.0) -> dict:
    """Poll the project until its job is no longer running; returns the project."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        project = client.get(f"/api/projects/{project_id}").json()
        if project["job"] is not None and project["job"]["state"] != "running":
            return project
        time.sleep(0.05)
    raise AssertionError(f"propagation of project {project_id} did not end in {timeout} s")


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)
