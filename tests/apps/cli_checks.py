"""Checks every CLI test shares: run a command in-process, and what a user's mistake must look like."""

from __future__ import annotations

from vidseg.apps.cli import EXIT_USER_ERROR, main


def run_command(capsys, argv: list[str]) -> tuple[int, str, str]:
    """``vidseg *argv`` in this process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, *words: str) -> None:
    """A user's mistake: exit code 2, one line 'vidseg: error: ...' naming ``words``, no traceback."""
    assert code == EXIT_USER_ERROR
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("vidseg: error: "), err
    for word in words:
        assert word in lines[0], lines[0]
