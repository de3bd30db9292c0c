"""The workspace: models warmed up in the background, and a project's session rebuilt from the store."""

from __future__ import annotations

import numpy as np

from tests.web.conftest import upload
from vidseg.web.store import Store
from vidseg.web.workspace import Workspace


def test_warm_up_loads_the_networks_in_the_background(tmp_path):
    workspace = Workspace(Store(tmp_path), method="static")
    assert not workspace.models_ready
    workspace.warm_up().join(120)
    assert workspace.models_ready


def test_a_reopened_workspace_has_the_same_session_state(client, clip):
    project = upload(client, clip)
    body = {"version": project["version"], "frame": 4, "obj_id": 3, "clicks": [[*clip.centre(4), True]]}
    assert client.post(f"/api/projects/{project['id']}/clicks", json=body).status_code == 200
    first = client.app.state.workspace
    labels = first.frame_labels(project["id"], 4)
    again = Workspace(Store(first.store.root), method="static")
    held = again.get(project["id"]).session.snapshot()
    assert set(held.prompts) == {4} and held.pending == {4} and held.objects == (3,)
    assert np.array_equal(again.frame_labels(project["id"], 4), labels) and (labels == 3).any()
