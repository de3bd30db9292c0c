"""The batch manifest: good lines parse (box converted), every bad line is named by its number."""

from __future__ import annotations

import json

import pytest

from vidseg.apps.batch_manifest import read_manifest
from vidseg.errors import InputError
from vidseg.ops.boxes import Box


@pytest.fixture
def files(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"x")
    (tmp_path / "mask.png").write_bytes(b"x")
    return tmp_path


def write(tmp_path, *lines) -> object:
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_lines_parse_with_paths_relative_to_the_manifest_and_box_as_corners(files):
    path = write(files, {"id": "a", "input": "clip.mp4", "mask": "mask.png"}, "",
                 {"id": "b.2", "input": str(files / "clip.mp4"), "box": [10, 20, 40.5, 60]})
    a, b = read_manifest(path)
    assert (a.id, a.input, a.mask, a.box, a.line) == ("a", files / "clip.mp4", files / "mask.png", None, 1)
    assert b.box == Box(10.0, 20.0, 40.5, 60.0) and b.mask is None and b.line == 3


@pytest.mark.parametrize("line, words", [
    ("{not json", ["line 2", "not valid JSON"]),
    ("[1, 2]", ["line 2", "JSON object"]),
    ({"id": "b", "input": "clip.mp4"}, ["line 2", "exactly one prompt"]),
    ({"id": "b", "input": "clip.mp4", "mask": "mask.png", "box": [0, 0, 1, 1]}, ["line 2", "exactly one prompt"]),
    ({"id": "b", "input": "missing.mp4", "mask": "mask.png"}, ["line 2", "missing.mp4", "does not exist"]),
    ({"id": "b", "input": "clip.mp4", "mask": "nomask.png"}, ["line 2", "nomask.png"]),
    ({"id": "b", "input": "clip.mp4", "box": [0, 0, 10]}, ["line 2", "[x0, y0, x1, y1]"]),
    ({"id": "b", "input": "clip.mp4", "box": [0, 0, 0, 10]}, ["line 2", "x1 > x0"]),
    ({"id": "b", "input": "clip.mp4", "box": [10, 20, 5, 5]}, ["line 2", "x1 > x0"]),  # x,y,w,h by mistake
    ({"id": "b", "input": "clip.mp4", "box": [-1, 0, 5, 10]}, ["line 2", "x0, y0 >= 0"]),
    ({"id": "b", "input": "clip.mp4", "box": [0, 0, True, 10]}, ["line 2", "[x0, y0, x1, y1]"]),
    ('{"id": "b", "input": "clip.mp4", "box": [NaN, 0, 5, 5]}', ["line 2", "not a finite number"]),
    ('{"id": "b", "input": "clip.mp4", "box": [0, 0, Infinity, 5]}', ["line 2", "not a finite number"]),
    ('{"id": "b", "input": "clip.mp4", "box": [-Infinity, 0, 5, 5]}', ["line 2", "not a finite number"]),
    ('{"id": "b", "input": "clip.mp4", "box": [0, 0, 5, 1e400]}', ["line 2", "not a finite number"]),
    ({"id": "../b", "input": "clip.mp4", "mask": "mask.png"}, ["line 2", "id is '../b'"]),
    ({"id": ".hidden", "input": "clip.mp4", "mask": "mask.png"}, ["line 2", "id"]),
    ({"id": 3, "input": "clip.mp4", "mask": "mask.png"}, ["line 2", "id is 3"]),
    ({"id": "summary.json", "input": "clip.mp4", "mask": "mask.png"}, ["line 2", "summary file"]),
    ({"id": "a", "input": "clip.mp4", "mask": "mask.png"}, ["line 2", "used again", "line 1"]),
    ({"id": "b", "input": "clip.mp4", "mask": "mask.png", "frame": 3}, ["line 2", "unknown key 'frame'"]),
])
def test_each_bad_line_is_one_error_with_its_number(files, line, words):
    path = write(files, {"id": "a", "input": "clip.mp4", "mask": "mask.png"}, line)
    with pytest.raises(InputError) as error:
        read_manifest(path)
    message = str(error.value)
    assert "\n" not in message and message.startswith("m.jsonl line 2: ")
    for word in words:
        assert word in message


def test_all_bad_lines_are_counted_and_empty_or_missing_manifests_refused(files, tmp_path):
    path = write(files, "{", {"id": "a"}, "[]")
    with pytest.raises(InputError, match=r"line 1: .*\(and 2 more bad lines\)"):
        read_manifest(path)
    with pytest.raises(InputError, match="lists no video"):
        read_manifest(write(files, "", "  "))
    with pytest.raises(InputError, match="does not exist"):
        read_manifest(tmp_path / "none.jsonl")
