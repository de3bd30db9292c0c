"""One batch video without Ray: outputs and marker, failure isolation, what counts as finished."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from tests.apps.batch_fixtures import write_batch_inputs
from vidseg.apps.batch_manifest import read_manifest
from vidseg.apps.batch_video import MARKER, BatchOptions, describe, is_finished, segment_video
from vidseg.errors import InputError


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    return {item.id: item for item in read_manifest(write_batch_inputs(tmp_path_factory.mktemp("inputs"), frames=4))}


@pytest.fixture(autouse=True)
def keep_threads():
    # segment_video sets one thread, as a worker must; the rest of the test session keeps its own.
    threads, cv_threads = torch.get_num_threads(), cv2.getNumThreads()
    yield
    torch.set_num_threads(threads)
    cv2.setNumThreads(cv_threads)


def test_a_video_is_segmented_marked_and_then_finished(items, tmp_path):
    outcome = segment_video(items["folder"], tmp_path, BatchOptions())
    assert outcome.ok and outcome.frames == 4 and torch.get_num_threads() == 1
    names = sorted(p.name for p in (tmp_path / "folder").iterdir())
    assert names == [MARKER, "00000.png", "00001.png", "00002.png", "00003.png"]
    assert is_finished(items["folder"], tmp_path, BatchOptions())
    assert not is_finished(items["folder"], tmp_path, BatchOptions(preset="quality"))  # other options: redo
    moved = dataclasses.replace(items["folder"], mask=items["folder"].mask.with_name("00001.png"))
    assert not is_finished(moved, tmp_path, BatchOptions())  # another prompt: redo


def test_a_box_prompt_makes_object_one_inside_the_box(items, tmp_path):
    assert segment_video(items["video"], tmp_path, BatchOptions()).ok
    first = np.array(Image.open(tmp_path / "video" / "00000.png"))
    x0, y0, x1, y1 = (int(v) for v in items["video"].box.as_tuple())  # the object's own box, x1 and y1 exclusive
    assert set(np.unique(first)) <= {0, 1} and first.sum() > 0.3 * (x1 - x0) * (y1 - y0)
    assert first[y0:y1, x0:x1].sum() >= 0.9 * first.sum()  # the mask lies in the box


def test_a_failure_is_an_outcome_and_leaves_no_folder(items, tmp_path):
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "00000.png").write_bytes(b"left by a killed run")
    outcome = segment_video(items["corrupt"], tmp_path, BatchOptions())
    assert not outcome.ok and "corrupt.mp4" in outcome.reason and "\n" not in outcome.reason
    assert not (tmp_path / "corrupt").exists() and not is_finished(items["corrupt"], tmp_path, BatchOptions())


def test_an_unfinished_folder_is_redone_from_the_start(items, tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "00000.png").write_bytes(b"half")
    (tmp_path / "folder" / ".00001.abc.tmp.png").write_bytes(b"temporary file of a killed write")
    assert not is_finished(items["folder"], tmp_path, BatchOptions())
    assert segment_video(items["folder"], tmp_path, BatchOptions()).ok
    assert sorted(p.name for p in (tmp_path / "folder").iterdir())[1:] == [f"{i:05d}.png" for i in range(4)]
    assert Image.open(tmp_path / "folder" / "00000.png").mode == "P"
    marker = json.loads((tmp_path / "folder" / MARKER).read_text())
    assert marker["frames"] == 4


def test_describe_keeps_user_messages_and_names_other_errors():
    assert describe(InputError("mask x.png has no object")) == "mask x.png has no object"
    assert describe(RuntimeError("boom\n  at line 3")) == "RuntimeError: boom at line 3"
    assert len(describe(ValueError("v" * 1000))) == 300
