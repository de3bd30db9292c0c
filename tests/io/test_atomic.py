import os
import stat
import time

import pytest

from vidseg.io.atomic import STALE_AFTER_S, atomic_path, atomic_paths, sweep_stale_temps, write_text_atomic


def test_written_files_follow_the_umask_not_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.txt", "hi")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644


def test_a_failed_write_leaves_neither_target_nor_temporary(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "b.png") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


# ---- all or none -------------------------------------------------------------------------------


def test_atomic_paths_publish_every_file(tmp_path):
    with atomic_paths([tmp_path / "a.png", tmp_path / "sub" / "b.png"]) as (a, b):
        a.write_bytes(b"A")
        b.write_bytes(b"B")
    assert (tmp_path / "a.png").read_bytes() == b"A" and (tmp_path / "sub" / "b.png").read_bytes() == b"B"
    assert temps(tmp_path) == []


def test_atomic_paths_write_none_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_paths([tmp_path / "a.png", tmp_path / "b.png"]) as (a, b):
            a.write_bytes(b"A")
            raise RuntimeError("the second one could not be made")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_second_rename_undoes_the_first(tmp_path):
    """The second target cannot be replaced (here: it is a folder); the first, already renamed,
    gets its old content back, and a target that did not exist before is removed again."""
    (tmp_path / "old.png").write_bytes(b"old")
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(OSError):
        with atomic_paths([tmp_path / "old.png", tmp_path / "new.png", tmp_path / "folder.png"]) as temps_:
            for tmp in temps_:
                tmp.write_bytes(b"new")
    assert (tmp_path / "old.png").read_bytes() == b"old"
    assert not (tmp_path / "new.png").exists() and (tmp_path / "folder.png").is_dir()
    assert temps(tmp_path) == []


# ---- leftovers of killed runs ------------------------------------------------------------------

DEAD_PID = 99_999_999  # above the largest pid Linux can give (2**22), so never running


def temps(folder):
    return sorted(p.name for p in folder.rglob(".*.tmp*"))


def aged(path, seconds=STALE_AFTER_S + 60):
    path.write_bytes(b"half-written")
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_temporary_names_carry_the_writer_pid(tmp_path):
    with atomic_path(tmp_path / "m.png") as tmp:
        assert tmp.name.startswith(f".m.{os.getpid()}.") and tmp.name.endswith(".tmp.png")
        assert tmp.parent == tmp_path


def test_the_next_write_sweeps_a_stale_temporary_file_of_a_killed_run(tmp_path):
    stale = aged(tmp_path / f".00003.{DEAD_PID}.abcd_123.tmp.png")
    legacy = aged(tmp_path / ".overlay.k2j4h5g6.tmp.mp4")  # named before the pid was added
    write_text_atomic(tmp_path / "boxes.txt", "1,2,3,4\n")
    assert not stale.exists() and not legacy.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boxes.txt"]


def test_a_live_or_recent_temporary_file_is_kept(tmp_path):
    """Only old AND ownerless files go: a running writer's (its pid alive, even if idle for long)
    and a recent one (a writer on another machine sharing the folder) are kept, as is any file
    that is not of our exact naming."""
    kept = [aged(tmp_path / f".clip.{os.getpid()}.abcdefgh.tmp.mp4"),   # this process: alive
            aged(tmp_path / f".clip.{DEAD_PID}.abcdefgh.tmp.mp4", seconds=10),  # dead, but recent
            aged(tmp_path / ".notes.tmp"), aged(tmp_path / "clip.12.abcdefgh.tmp.mp4"),
            aged(tmp_path / f".clip.{DEAD_PID}.abc.tmp.mp4")]
    assert sweep_stale_temps(tmp_path) == []
    assert all(p.exists() for p in kept)


def test_a_folder_is_swept_once_per_process(tmp_path):
    write_text_atomic(tmp_path / "a.txt", "a")
    stale = aged(tmp_path / f".b.{DEAD_PID}.abcdefgh.tmp.txt")
    write_text_atomic(tmp_path / "c.txt", "c")  # a folder of masks gets one write per frame
    assert stale.exists()
