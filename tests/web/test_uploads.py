"""Upload checks that need no server: names, declared sizes, the data folder's video list."""

from __future__ import annotations

import pytest

from vidseg.web.store import Store
from vidseg.web.uploads import NotAVideo, TooLarge, check_declared_size, check_upload_name, data_videos


def test_only_video_extensions_pass():
    assert check_upload_name("Holiday.MP4") == ".mp4"
    assert check_upload_name("a.b.webm") == ".webm"
    for name in ("photo.jpg", "clip", "", "archive.zip", "clip.mp4.exe"):
        with pytest.raises(NotAVideo, match="not a video file"):
            check_upload_name(name)


def test_a_declared_size_over_the_limit_is_refused_before_reading():
    check_declared_size(None, 100)
    check_declared_size("100", 100)
    check_declared_size("chunked", 100)
    with pytest.raises(TooLarge, match="over this server's limit"):
        check_declared_size("101", 100)


def test_data_videos_lists_videos_only(tmp_path):
    store = Store(tmp_path)
    videos = tmp_path / "videos"
    for name in ("a.mp4", "sub/b.mov", ".upload-123.mp4", ".hidden/c.mp4", "notes.txt"):
        (videos / name).parent.mkdir(parents=True, exist_ok=True)
        (videos / name).write_bytes(b"x")
    assert data_videos(store) == ["a.mp4", "sub/b.mov"]
