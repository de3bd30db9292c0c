"""Exports: the kinds a user may ask for, and a failed export leaves no half zip."""

from __future__ import annotations

import pytest

from tests.web.conftest import upload
from vidseg.errors import InputError, OutputError
from vidseg.web.exports import parse_kinds


def test_kinds_are_checked_and_put_in_order():
    assert parse_kinds("rle, masks") == ("masks", "rle")
    for bad in ("", ",", "masks,gif", "MASKS"):
        with pytest.raises(InputError, match="choose one or more"):
            parse_kinds(bad)


def test_a_failed_export_leaves_no_zip_and_no_temporary_files(client, clip, monkeypatch):
    import vidseg.web.exports as exports

    project = upload(client, clip)
    body = {"version": project["version"], "frame": 0, "obj_id": 1, "clicks": [[*clip.centre(0), True]]}
    assert client.post(f"/api/projects/{project['id']}/clicks", json=body).status_code == 200
    written = []

    def failing(path, labels, palette=None):
        if len(written) == 5:
            raise OutputError("disk full (simulated)")
        written.append(path)

    monkeypatch.setattr(exports, "write_index_png", failing)
    response = client.get(f"/api/projects/{project['id']}/export?kinds=masks,rle")
    assert response.status_code == 500 and "disk full" in response.json()["detail"]
    folder = client.app.state.workspace.store.project_dir(project["id"]) / "exports"
    assert list(folder.iterdir()) == []
    monkeypatch.undo()
    assert client.get(f"/api/projects/{project['id']}/export?kinds=masks,rle").status_code == 200  # not left locked
