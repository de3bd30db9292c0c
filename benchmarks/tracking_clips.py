"""Write clips that look like tracking footage, made from the photos our split holds out, as a DAVIS folder.

Each clip (:mod:`vidseg.data.tracking_footage`): a small target (24-72 px) cut out of one held-out
photo, moving fast and turning sharply with motion blur among three recoloured look-alikes of
itself and one other held-out object, over another held-out photo that the camera pans across;
the first ``--hd`` clips at 1920x1080, the rest at 1280x720. No network trained on these photos
(``--photo-split train`` leaves them out), so the tracker and the VOS network see them fresh.
``--split train`` makes the same kind of clips from training photos instead: footage to choose
tracking settings on without looking at the held-out clips.

    python benchmarks/tracking_clips.py --out /tmp/footage
    python benchmarks/tracker.py --data /tmp/footage --sequences all
    python benchmarks/tracking_clips.py --split train --out /tmp/footage-tune     # for choosing settings
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from vidseg.data.synthetic import write_clip
from vidseg.data.tracking_footage import FootageConfig, Sprite, render_footage
from vidseg.errors import VidsegError
from vidseg.io.frames import read_rgb
from vidseg.io.masks import read_mask
from vidseg.train.photos import photo_pairs, split_parts

DEFAULT_PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "static"


def photo_objects(root: Path, split: str = "validation") -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, image, mask of one object) for each photo of ``split`` ("validation": the held-out
    ones): its largest part when the mask falls into several."""
    objects = []
    for folder, image_path, mask_path in photo_pairs(root, split):
        mask = (read_mask(mask_path).labels > 0).astype(np.uint8)
        parts = split_parts(mask)
        if parts is not None:
            mask = (parts == 1).astype(np.uint8)  # split_parts numbers the parts largest first
        objects.append((f"{folder}-{image_path.stem}", read_rgb(image_path), mask))
    return objects


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="photo root (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="DAVIS-layout folder to write")
    parser.add_argument("--count", type=int, default=8, help="clips (default: %(default)s)")
    parser.add_argument("--hd", type=int, default=2, help="how many of them at 1920x1080 (default: %(default)s)")
    parser.add_argument("--frames", type=int, default=90, help="frames per clip (default: %(default)s)")
    parser.add_argument("--split", choices=("validation", "train"), default="validation",
                        help="photos to make the clips from: held out (default) or training ones, to tune on")
    args = parser.parse_args()
    try:
        objects = photo_objects(args.photos, args.split)
    except VidsegError as error:
        raise SystemExit(str(error)) from None
    rng = np.random.default_rng(0)
    picks = rng.permutation(len(objects))
    written = 0
    for k in range(len(objects)):
        if written == args.count:
            break
        name, image, mask = objects[picks[k]]
        background = objects[picks[-1 - k]][1]
        other = objects[picks[(k + len(objects) // 2) % len(objects)]]
        hd = written < args.hd
        config = FootageConfig(height=1080 if hd else 720, width=1920 if hd else 1280, num_frames=args.frames,
                               target_side=(32, 96) if hd else (24, 72), seed=k)
        try:
            clip = render_footage(Sprite.cut(image, mask), background, config, [Sprite.cut(other[1], other[2])])
        except VidsegError as error:
            print(f"{name}: skipped ({error})", file=sys.stderr)
            continue
        write_clip(clip, args.out, f"footage-{written:02d}-{name}")
        written += 1
        print(f"footage-{written - 1:02d}-{name}: {config.width}x{config.height}, {config.num_frames} frames", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
