"""The store: what survives a reopen, what a transaction that fails leaves, what a stopped server left."""

from __future__ import annotations

import numpy as np
import pytest

from vidseg.io.masks import write_index_png
from vidseg.web.store import RUNNING, ConflictError, Job, Pass, Store


def new_project(store: Store):
    return store.create_project("clip.mp4", "videos/clip.mp4", num_frames=5, width=8, height=6, fps=24.0)


def test_prompts_objects_and_versions_survive_a_reopen(tmp_path):
    store = Store(tmp_path)
    project = new_project(store)
    labels = np.zeros((6, 8), np.uint8)
    labels[1:3, 2:5] = 2
    with store.transaction() as db:
        assert store.bump_version(db, project.id, 1) == 2
        store.save_prompt(db, project.id, 3, labels, frozenset({2, 4}))
    store.close()
    again = Store(tmp_path)
    assert again.project(project.id).version == 2
    assert again.objects(project.id) == [2, 4]
    (prompt,) = again.prompts(project.id)
    assert prompt.frame == 3 and prompt.pending and prompt.objects == {2, 4}
    assert np.array_equal(prompt.labels, labels)


def test_a_stale_version_is_a_conflict_and_a_failed_transaction_changes_nothing(tmp_path):
    store = Store(tmp_path)
    project = new_project(store)
    with pytest.raises(ConflictError, match="another tab"):
        with store.transaction() as db:
            store.save_prompt(db, project.id, 0, np.ones((6, 8), np.uint8), frozenset({1}))
            store.bump_version(db, project.id, 7)
    assert store.prompts(project.id) == [] and store.objects(project.id) == []
    assert store.project(project.id).version == 1


def test_a_job_left_running_is_marked_interrupted_with_its_place(tmp_path):
    store = Store(tmp_path)
    project = new_project(store)
    with store.transaction() as db:
        store.start_job(db, project.id, Job(RUNNING, (Pass(2, False), Pass(2, True)), 0, None, 0, 6, ""))
    store.frame_done(project.id, 0, 2)
    store.frame_done(project.id, 0, 3)
    store.close()
    job = Store(tmp_path).job(project.id)
    assert job.state == "interrupted" and job.last_frame == 3 and job.done == 2 and job.pass_index == 0
    assert job.passes == (Pass(2, False), Pass(2, True))


def test_only_complete_mask_files_count(tmp_path):
    store = Store(tmp_path)
    project = new_project(store)
    write_index_png(store.mask_path(project.id, 1), np.zeros((6, 8), np.uint8))
    # What a write killed halfway leaves: a hidden temporary file, never a partial 00002.png.
    (store.mask_path(project.id, 2).parent / ".00002.abc.tmp.png").write_bytes(b"\x89PNG half")
    assert store.computed_frames(project.id) == [1]


def test_unknown_project_is_a_lookup_error(tmp_path):
    with pytest.raises(LookupError, match="does not exist"):
        Store(tmp_path).project(3)


def test_a_restart_sweeps_what_interrupted_writes_left(tmp_path):
    store = Store(tmp_path)
    project = new_project(store)
    write_index_png(store.mask_path(project.id, 0), np.zeros((6, 8), np.uint8))
    leftovers = [tmp_path / "videos" / ".upload-abc.mp4", store.mask_path(project.id, 0).parent / ".00001.x.tmp.png",
                 store.project_dir(project.id) / "exports" / ".export-x" / "masks" / "00000.png"]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    store.close()
    Store(tmp_path)
    assert not any(path.exists() for path in leftovers)
    assert not (store.project_dir(project.id) / "exports" / ".export-x").exists()
    assert store.mask_path(project.id, 0).exists()


def test_a_database_of_an_older_version_gets_the_new_column(tmp_path):
    """Projects made before uploads were hashed: the store adds the column, their projects still open."""
    import sqlite3

    old = sqlite3.connect(tmp_path / "vidseg.sqlite")
    old.execute("CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL, video TEXT NOT NULL, num_frames "
                "INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, fps REAL, version INTEGER NOT NULL "
                "DEFAULT 1, created REAL NOT NULL)")
    old.execute("INSERT INTO projects (name, video, num_frames, width, height, fps, created) "
                "VALUES ('a.mp4', 'videos/a.mp4', 3, 8, 6, 24, 0)")
    old.commit()
    old.close()
    store = Store(tmp_path)
    assert store.project(1).sha256 is None and store.find_project(video="videos/a.mp4").id == 1
    made = store.create_project("b.mp4", "videos/b-1.mp4", 3, 8, 6, 24.0, sha256="ab" * 32)
    assert store.find_project(sha256="ab" * 32) == made
