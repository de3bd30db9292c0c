"""Errors that vidseg raises for a user's mistake.

Library code raises these and never exits; the CLI turns them into a one-line message and a
non-zero exit code, with no traceback.
"""


class VidsegError(Exception):
    """Base class of every error that is the user's to fix; the message says what to do."""


class InputError(VidsegError):
    """An input (video, frame folder, mask, image, option) is missing, unreadable or inconsistent."""


class OutputError(VidsegError):
    """An output location cannot be used (exists with other files, not writable)."""
