"""COCO RLE: exact strings (against pycocotools), round trips, and the per-video JSON file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vidseg.errors import InputError
from vidseg.io.rle import RleJsonWriter, decode_rle, encode_rle, read_rle_json, write_rle_json


def some_masks() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    masks = [
        np.zeros((4, 5), bool),
        np.ones((4, 5), bool),
        np.eye(6, 7, dtype=bool),
        np.zeros((1, 1), bool),
        np.ones((1, 1), bool),
    ]
    first_pixel = np.zeros((3, 3), bool)
    first_pixel[0, 0] = True  # the runs then start with a zero-length background run
    masks.append(first_pixel)
    big = np.zeros((300, 200), bool)
    big[20:280, 3:190] = True  # runs longer than one 5-bit group, and negative deltas
    masks.append(big)
    for _ in range(40):
        h, w = rng.integers(1, 30, 2)
        masks.append(rng.random((h, w)) < rng.random())
    return masks


def test_known_encoding():
    mask = np.array([[0, 1], [1, 1]], dtype=bool)
    # Column-major: 0, 1 | 1, 1 -> runs [1, 3].
    assert encode_rle(mask) == {"size": [2, 2], "counts": "13"}


def test_round_trip():
    for mask in some_masks():
        rle = encode_rle(mask)
        assert rle["size"] == list(mask.shape)
        decoded = decode_rle(rle)
        assert decoded.dtype == bool and np.array_equal(decoded, mask)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside pycocotools
def test_same_strings_as_pycocotools():
    coco = pytest.importorskip("pycocotools.mask")
    for mask in some_masks():
        theirs = coco.encode(np.asfortranarray(mask.astype(np.uint8)))
        ours = encode_rle(mask)
        assert ours["counts"] == theirs["counts"].decode("ascii")
        assert ours["size"] == list(theirs["size"])
        assert np.array_equal(decode_rle(theirs), mask)  # bytes counts are accepted too
        assert np.array_equal(coco.decode({"size": ours["size"], "counts": ours["counts"].encode()}), mask)


def test_uncompressed_counts_are_accepted():
    assert np.array_equal(decode_rle({"size": [2, 2], "counts": [1, 3]}), [[False, True], [True, True]])


def test_corrupt_rle_is_an_input_error():
    with pytest.raises(InputError, match="cover 4 pixels, not 3x3"):
        decode_rle({"size": [3, 3], "counts": [1, 3]})
    with pytest.raises(InputError, match="not a COCO RLE"):
        decode_rle({"counts": "13"})


def label_frames() -> list[tuple[int, str, np.ndarray]]:
    a = np.zeros((6, 8), np.uint8)
    a[1:3, 1:4] = 1
    a[4:, 5:] = 7
    b = np.zeros((6, 8), np.uint8)
    c = np.full((6, 8), 2, np.uint8)
    return [(0, "00000", a), (1, "00001", b), (5, "00005", c)]


def test_json_writer_layout_and_round_trip(tmp_path):
    path = tmp_path / "out" / "masks.json"
    with RleJsonWriter(path) as writer:
        for index, stem, labels in label_frames():
            writer.add(index, stem, labels)
        assert not path.exists()  # written at the end, in one go
    document = json.loads(path.read_text())
    assert document["format"] == "coco-rle"
    assert (document["height"], document["width"]) == (6, 8)
    assert [f["index"] for f in document["frames"]] == [0, 1, 5]
    assert [f["stem"] for f in document["frames"]] == ["00000", "00001", "00005"]
    first = document["frames"][0]["objects"]
    assert sorted(first) == ["1", "7"] and document["frames"][1]["objects"] == {}
    assert np.array_equal(decode_rle(first["7"]), label_frames()[0][2] == 7)
    for (i, stem, labels), (j, stem2, back) in zip(label_frames(), read_rle_json(path)):
        assert (i, stem) == (j, stem2) and np.array_equal(labels, back)


def test_write_rle_json_function(tmp_path):
    write_rle_json(tmp_path / "m.json", label_frames())
    assert len(read_rle_json(tmp_path / "m.json")) == 3


def test_nothing_written_when_the_run_fails(tmp_path):
    path = tmp_path / "masks.json"
    with pytest.raises(RuntimeError):
        with RleJsonWriter(path) as writer:
            writer.add(0, "00000", np.ones((2, 2), np.uint8))
            raise RuntimeError("model crashed")
    assert list(tmp_path.iterdir()) == []


def test_frames_of_another_size_are_refused(tmp_path):
    writer = RleJsonWriter(tmp_path / "m.json")
    writer.add(0, "a", np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="frame 1"):
        writer.add(1, "b", np.zeros((2, 3), np.uint8))


def test_reading_a_non_rle_file(tmp_path):
    (tmp_path / "x.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="not a vidseg RLE JSON"):
        read_rle_json(tmp_path / "x.json")
