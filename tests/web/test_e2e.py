"""End to end in headless Chromium: upload a clip, click the object, propagate, correct a frame,
download the export and check its masks against the ground truth."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.web.browser import chromium_page, live_server
from tests.web.conftest import iou

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def click_at(page, x: float, y: float, width: int, height: int, **options) -> None:
    """Click the video's pixel (x, y) on the page's canvas, whatever its on-screen scale."""
    canvas = page.locator("#input-canvas")
    box = canvas.bounding_box()
    canvas.click(position={"x": (x + 0.5) * box["width"] / width, "y": (y + 0.5) * box["height"] / height},
                 **options)


def wait_idle(page) -> None:
    page.wait_for_function("document.body.dataset.state === 'idle'")


def test_upload_click_propagate_correct_export(tmp_path, clip):
    from vidseg.web.app import ServeConfig

    height, width = clip.labels.shape[1:]
    with live_server(ServeConfig(data=tmp_path / "data")) as url, chromium_page(tmp_path / "downloads") as page:
        page.goto(url + "/")
        page.wait_for_function("document.body.dataset.ready === '1'")
        page.set_input_files("#upload-input", str(clip.video))
        page.wait_for_function("document.body.dataset.version === '1'", timeout=60_000)
        assert "clip.mp4" in page.inner_text("#project-name")

        click_at(page, *clip.centre(0), width, height)  # select the disc on frame 0
        page.wait_for_function("document.body.dataset.version === '2'", timeout=60_000)
        wait_idle(page)

        page.click("#propagate")
        page.wait_for_function("document.body.dataset.job === 'done'", timeout=120_000)
        assert "propagated 12 frames" in page.inner_text("#status")

        # Correct frame 8: scrub there and add a positive click on the disc's centre.
        page.fill("#frame-slider", "8")
        page.wait_for_function("document.body.dataset.frame === '8'")
        click_at(page, *clip.centre(8), width, height)
        page.wait_for_function("document.body.dataset.version === '4'", timeout=60_000)
        wait_idle(page)
        assert "frame 8 updated" in page.inner_text("#message")

        with page.expect_download() as download:
            page.click("#export-link")
        archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    masks = np.stack([np.array(Image.open(io.BytesIO(archive.read(f"masks/{i:05d}.png")))) for i in range(12)])
    scores = [iou(masks[i] == 1, clip.labels[i] == 1) for i in range(12)]
    assert min(scores) > 0.7, np.round(scores, 2)
    assert set(np.unique(masks)) == {0, 1}
