"""check_outputs: an output is never an input, never replaces a file without overwrite, and is
refused before any work when it cannot be written."""

from __future__ import annotations

import os

import pytest

from vidseg.errors import OutputError
from vidseg.io import outputs as outputs_module
from vidseg.io.outputs import Output, check_outputs


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"the user's only copy")
    return path


def refused(outputs, inputs=(), overwrite=False) -> str:
    with pytest.raises(OutputError) as error:
        check_outputs(outputs, inputs, overwrite)
    return str(error.value)


@pytest.mark.parametrize("overwrite", [False, True])
def test_the_input_itself_is_refused_even_with_overwrite(clip, overwrite):
    assert "is an input" in refused([Output(clip, "--overlay")], [clip], overwrite)


@pytest.mark.parametrize("link", [os.symlink, os.link])
def test_the_input_through_a_symbolic_or_hard_link_is_refused(clip, tmp_path, link):
    link(clip, tmp_path / "other.mp4")
    assert "--overlay" in refused([Output(tmp_path / "other.mp4", "--overlay")], [clip], overwrite=True)


def test_the_input_through_a_linked_folder_is_refused(clip, tmp_path):
    os.symlink(tmp_path, tmp_path / "again")
    assert "is an input" in refused([Output(tmp_path / "again" / "clip.mp4", "--overlay")], [clip], True)


def test_an_input_folder_and_its_files_are_refused(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "00000.png").write_bytes(b"frame")
    assert "is an input" in refused([Output(frames, "-o", folder=True)], [frames], overwrite=True)
    assert "file of the input folder" in refused([Output(frames / "00000.png", "--rle")], [frames], True)
    check_outputs([Output(frames / "new.json", "--rle"), Output(frames / "masks", "-o", folder=True)],
                  [frames], overwrite=False)  # new names beside the frames harm nothing


def test_a_file_deeper_in_an_input_folder_is_refused(tmp_path):
    # eval's inputs are DAVIS roots: a frame is two folders down
    (tmp_path / "root" / "clip").mkdir(parents=True)
    (tmp_path / "root" / "clip" / "00000.png").write_bytes(b"mask")
    assert "file of the input folder" in refused([Output(tmp_path / "root" / "clip" / "00000.png", "--json")],
                                                 [tmp_path / "root"], True)


def test_an_existing_file_needs_overwrite(clip, tmp_path):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"an earlier result")
    assert "--overwrite" in refused([Output(out, "--overlay")], [clip])
    check_outputs([Output(out, "--overlay")], [clip], overwrite=True)


def test_a_used_folder_needs_overwrite_and_a_file_is_not_a_folder(tmp_path):
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "notes.txt").write_text("mine")
    assert "--overwrite" in refused([Output(tmp_path / "masks", "-o", folder=True)])
    check_outputs([Output(tmp_path / "masks", "-o", folder=True)], [], overwrite=True)
    (tmp_path / "file").write_text("x")
    assert "is a file" in refused([Output(tmp_path / "file", "-o", folder=True)], overwrite=True)


def test_a_file_output_that_is_a_folder_is_refused(tmp_path):
    (tmp_path / "o.mp4").mkdir()
    assert "is a folder" in refused([Output(tmp_path / "o.mp4", "--overlay")], overwrite=True)


def test_an_output_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    message = refused([Output(tmp_path / "file" / "deeper" / "o.mp4", "--overlay")])
    assert "is a file, not a folder" in message and "--overlay" in message


def test_a_folder_that_cannot_be_written_is_refused(tmp_path, monkeypatch):
    # The tests may run as root, for whom every folder is writable: the check asks os.access.
    monkeypatch.setattr(outputs_module.os, "access", lambda path, mode: False)
    assert "read-only" in refused([Output(tmp_path / "new" / "o.mp4", "--overlay")])


def test_two_outputs_may_not_share_a_path(tmp_path):
    message = refused([Output(tmp_path / "m.png", "-o"), Output(tmp_path / "m.png", "--cutout")])
    assert "-o and --cutout both name" in message


def test_options_not_given_are_skipped(tmp_path):
    check_outputs([None, Output(tmp_path / "o.mp4", "--overlay")], [None, tmp_path / "in.mp4"], overwrite=False)
