"""``vidseg serve``'s checks before it binds: each mistake is one line, exit code 2, nothing started."""

from __future__ import annotations

import pytest

from tests.apps.cli_checks import assert_user_error, run_command


@pytest.mark.parametrize("options, words", [
    (["--port", "0"], ["--port"]),
    (["--port", "70000"], ["--port"]),
    (["--max-upload-mb", "0"], ["--max-upload-mb"]),
    (["--host", "192.168.1.2"], ["--token", "192.168.1.2"]),
])
def test_bad_options_are_one_line_errors(capsys, tmp_path, options, words):
    code, _, err = run_command(capsys, ["serve", "--data", tmp_path / "data", *options])
    assert_user_error(code, err, *words)


def test_data_that_is_a_file_is_refused(capsys, tmp_path):
    (tmp_path / "data").write_text("x")
    code, _, err = run_command(capsys, ["serve", "--data", tmp_path / "data"])
    assert_user_error(code, err, "is a file")
