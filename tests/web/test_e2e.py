"""End to end in headless Chromium: upload a clip, click the object, undo a wrong click, add a second
object, propagate, correct a frame, delete the second object, download the export and check its masks
against the ground truth."""

from __future__ import annotations

import io
import zipfile

import httpx
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


def drag_box(page, box: tuple[float, float, float, float], width: int, height: int) -> None:
    """Drag from the video's pixel (x0, y0) to (x1, y1) on the page's canvas (the Box tool)."""
    canvas = page.locator("#input-canvas").bounding_box()
    x0, y0, x1, y1 = (canvas["x"] + box[0] * canvas["width"] / width, canvas["y"] + box[1] * canvas["height"] / height,
                      canvas["x"] + box[2] * canvas["width"] / width, canvas["y"] + box[3] * canvas["height"] / height)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2)
    page.mouse.move(x1, y1)
    page.mouse.up()


def drawn_objects(page) -> np.ndarray:
    """(H, W) object ids as the page's mask canvas shows them: 0 where clear, else 1 + the index of
    the page's colour for it (overlay.js BRIGHT: object 1 red, object 2 green)."""
    width, height, data = page.evaluate("""() => { const c = document.getElementById('mask-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return [c.width, c.height, Array.from(d)]; }""")
    rgba = np.array(data, np.uint8).reshape(height, width, 4)
    ids = np.zeros((height, width), np.uint8)
    for obj_id, colour in ((1, (255, 59, 48)), (2, (52, 199, 89))):
        # Half-transparent pixels come back from the canvas's premultiplied store a few levels off.
        near = (np.abs(rgba[..., :3].astype(int) - colour) <= 4).all(axis=-1)
        ids[(rgba[..., 3] > 0) & near] = obj_id
    return ids


def wait_version(page, version: int) -> None:
    page.wait_for_function(f"document.body.dataset.version === '{version}'", timeout=60_000)
    wait_idle(page)


def wait_idle(page) -> None:
    page.wait_for_function("document.body.dataset.state === 'idle'")


def test_upload_click_undo_propagate_correct_delete_export(tmp_path, clip):
    from vidseg.web.app import ServeConfig

    height, width = clip.labels.shape[1:]
    with live_server(ServeConfig(data=tmp_path / "data")) as url, chromium_page(tmp_path / "downloads") as page:
        page.goto(url + "/")
        page.wait_for_function("document.body.dataset.ready === '1'")
        # The start page: what to do, and nothing to propagate or download yet.
        assert page.is_visible("#start") and "Open a video" in page.inner_text("#start")
        assert page.is_disabled("#propagate") and page.get_attribute("#export-link", "aria-disabled") == "true"
        page.set_input_files("#upload-input", str(clip.video))
        wait_version(page, 1)
        assert "clip.mp4" in page.inner_text("#project-name") and not page.is_visible("#start")
        assert page.is_enabled("#propagate") and page.is_disabled("#undo")

        click_at(page, *clip.centre(0), width, height)  # select the disc on frame 0
        wait_version(page, 2)
        click_at(page, *clip.centre(0), width, height, modifiers=["Shift"])  # a wrong click: removes the disc
        wait_version(page, 3)
        page.click("#undo")  # takes the wrong click back; the export below shows the disc is selected again
        wait_version(page, 4)
        assert "Undid the last click" in page.inner_text("#message")

        # A second object on frame 0, by a box in the background's corner, propagated with the first.
        page.click("#new-object")
        page.check("#tool-box")
        drag_box(page, (4, 4, 60, 60), width, height)
        wait_version(page, 5)
        page.check("#tool-click")
        # What the page draws is the server's labels: each object in its colour, the background clear.
        served = np.array(Image.open(io.BytesIO(httpx.get(f"{url}/api/projects/1/masks/0.png").content)))
        assert set(np.unique(served)) == {0, 1, 2}
        assert (drawn_objects(page) == served).mean() > 0.999

        page.click("#propagate")
        page.wait_for_function("document.body.dataset.job === 'done'", timeout=120_000)
        assert "propagated 12 frames" in page.inner_text("#status")

        # Correct object 1 on frame 8: scrub there and add a positive click on the disc's centre.
        page.select_option("#object-select", "1")
        page.fill("#frame-slider", "8")
        page.wait_for_function("document.body.dataset.frame === '8'")
        click_at(page, *clip.centre(8), width, height)
        wait_version(page, 7)
        assert "frame 8 updated" in page.inner_text("#message")

        # Delete object 2 from every frame (the page asks first).
        page.select_option("#object-select", "2")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#delete-object")
        wait_version(page, 8)
        assert "Deleted object 2" in page.inner_text("#message")
        assert page.eval_on_selector_all("#object-select option", "options => options.map(o => o.value)") == ["1"]

        with page.expect_download() as download:
            page.click("#export-link")
        archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    masks = np.stack([np.array(Image.open(io.BytesIO(archive.read(f"masks/{i:05d}.png")))) for i in range(12)])
    scores = [iou(masks[i] == 1, clip.labels[i] == 1) for i in range(12)]
    assert min(scores) > 0.7, np.round(scores, 2)
    assert set(np.unique(masks)) == {0, 1}
