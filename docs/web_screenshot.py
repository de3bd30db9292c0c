"""Make docs/web.png: the web application in headless Chromium on a rendered clip (no real footage).

Two objects are selected on frame 0 with a box each and corrected with the click protocol's clicks,
then propagated; the screenshot shows frame 8 with both masks.

    python docs/web_screenshot.py            # writes docs/web.png (palette PNG, < 200 KB)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.browser import chromium_page, live_server  # noqa: E402
from vidseg.data import ClipConfig, render_clip  # noqa: E402
from vidseg.data.synthetic import write_clip_video  # noqa: E402
from vidseg.eval.click_protocol import Clicker  # noqa: E402
from vidseg.web.app import ServeConfig  # noqa: E402
from tests.web.test_e2e import click_at  # noqa: E402


def main(out: Path = ROOT / "docs" / "web.png") -> None:
    clip = render_clip(ClipConfig(height=360, width=640, num_frames=24, num_objects=2, seed=0, max_speed=3.0))
    with tempfile.TemporaryDirectory() as tmp:
        video = write_clip_video(clip, Path(tmp) / "rendered-clip.mp4")
        with live_server(ServeConfig(data=Path(tmp) / "data")) as url, chromium_page(Path(tmp)) as page:
            page.set_viewport_size({"width": 1180, "height": 680})
            page.goto(url + "/")
            page.wait_for_function("document.body.dataset.ready === '1'")
            page.set_input_files("#upload-input", str(video))
            page.wait_for_function("document.body.dataset.frame === '0'", timeout=60_000)
            for obj in (1, 2):
                if obj == 2:
                    page.click("#new-object")
                select(page, url, clip.labels[0] == obj, obj)
            page.click("#propagate")
            page.wait_for_function("document.body.dataset.job === 'done'", timeout=300_000)
            page.fill("#frame-slider", "8")
            page.wait_for_function("document.body.dataset.frame === '8'")
            page.wait_for_timeout(300)
            shot = Path(tmp) / "shot.png"
            page.screenshot(path=str(shot))
        image = Image.open(shot).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
        image.save(out, optimize=True)
    print(f"{out}: {out.stat().st_size / 1024:.0f} KB")


def select(page, url: str, gt: np.ndarray, obj: int, clicks: int = 6) -> None:
    """A box around the object, then protocol clicks on the current mask's errors."""
    import io

    import httpx

    height, width = gt.shape
    ys, xs = np.nonzero(gt)
    page.check("#tool-box")
    canvas = page.locator("#input-canvas").bounding_box()
    scale = canvas["width"] / width

    def at(x: float, y: float) -> tuple[float, float]:
        return canvas["x"] + x * scale, canvas["y"] + y * scale

    version = int(page.evaluate("document.body.dataset.version"))
    page.mouse.move(*at(xs.min(), ys.min()))
    page.mouse.down()
    page.mouse.move(*at(xs.max(), ys.max()), steps=5)
    page.mouse.up()
    version += 1
    page.wait_for_function(f"document.body.dataset.version === '{version}'", timeout=60_000)
    page.check("#tool-click")
    clicker = Clicker(gt)
    for _ in range(clicks):
        mask = np.array(Image.open(io.BytesIO(httpx.get(f"{url}/api/projects/1/masks/0.png").content))) == obj
        click = clicker.next(mask)
        if click is None:
            break
        click_at(page, click.x, click.y, width, height, modifiers=[] if click.positive else ["Shift"])
        version += 1
        page.wait_for_function(f"document.body.dataset.version === '{version}' && document.body.dataset.state === 'idle'",
                               timeout=60_000)


if __name__ == "__main__":
    main()
