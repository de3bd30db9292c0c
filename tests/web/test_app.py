"""The HTTP API: the whole workflow, and every bad input the issue lists answered with a clear message."""

from __future__ import annotations

import asyncio
import io
import logging
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.web.conftest import iou, make_client, upload, wait_job
from vidseg.io.masks import read_mask


def mask_of(client, project_id: int, frame: int) -> np.ndarray:
    response = client.get(f"/api/projects/{project_id}/masks/{frame}.png")
    assert response.status_code == 200
    return np.array(Image.open(io.BytesIO(response.content)))


def click(client, project: dict, frame: int, point, positive=True, obj_id=1, version=None):
    body = {"version": project["version"] if version is None else version, "frame": frame, "obj_id": obj_id,
            "clicks": [[point[0], point[1], positive]]}
    return client.post(f"/api/projects/{project['id']}/clicks", json=body)


def test_workflow_upload_click_propagate_correct_export(client, clip):
    project = upload(client, clip)
    assert (project["num_frames"], project["width"], project["height"]) == (12, 320, 240)
    frame = client.get(f"/api/projects/{project['id']}/frames/3.jpg")
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg"

    answer = click(client, project, 0, clip.centre(0))
    assert answer.status_code == 200, answer.text
    assert answer.json()["prompted"] == [0] and answer.json()["objects"] == [1]  # the project, as GET gives it
    project["version"] = answer.json()["version"]
    assert iou(mask_of(client, project["id"], 0) == 1, clip.labels[0] == 1) > 0.85

    started = client.post(f"/api/projects/{project['id']}/propagate", json={"version": project["version"]})
    assert started.status_code == 200, started.text
    done = wait_job(client, project["id"])
    assert done["job"]["state"] == "done" and done["computed"] == list(range(12))

    box = client.post(f"/api/projects/{project['id']}/box",
                      json={"version": done["version"], "frame": 9, "obj_id": 1, "box": list(clip.box(9))})
    assert box.status_code == 200, box.text
    assert iou(mask_of(client, project["id"], 9) == 1, clip.labels[9] == 1) > 0.85
    assert client.get(f"/api/projects/{project['id']}").json()["prompted"] == [0, 9]

    response = client.get(f"/api/projects/{project['id']}/export?kinds=masks,overlay,alpha,rle")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    check_export(zipfile.ZipFile(io.BytesIO(response.content)), client, project["id"])


def check_export(archive: zipfile.ZipFile, client, project_id: int) -> None:
    """Every kind of output: index PNGs equal the served masks, RLE equals them, alpha and overlay complete."""
    import av

    from vidseg.io.rle import read_rle_json

    names = set(archive.namelist())
    masks = [np.array(Image.open(io.BytesIO(archive.read(f"masks/{i:05d}.png")))) for i in range(12)]
    for i in (0, 5, 9):
        assert np.array_equal(masks[i], mask_of(client, project_id, i))
    rgba = Image.open(io.BytesIO(archive.read("alpha/00005.png")))
    assert rgba.mode == "RGBA" and np.array_equal(np.array(rgba)[..., 3] > 0, masks[5] > 0)
    decoded = read_rle_json(archive.extract("masks.json", path=client.app.state.workspace.store.root / "check"))
    assert [i for i, _, _ in decoded] == list(range(12))
    assert all(np.array_equal(labels, masks[i]) for i, _, labels in decoded)
    overlay = archive.extract("overlay.mp4", path=client.app.state.workspace.store.root / "check")
    with av.open(overlay) as video:
        assert sum(1 for _ in video.decode(video=0)) == 12
    assert {"masks/00011.png", "alpha/00011.png"} <= names


def test_not_a_video_is_refused(client, tmp_path):
    wrong_type = client.post("/api/upload?name=notes.txt", content=b"hello")
    assert wrong_type.status_code == 415 and "not a video file" in wrong_type.json()["detail"]
    garbage = client.post("/api/upload?name=clip.mp4", content=b"\x00not really a video" * 100)
    assert garbage.status_code == 415 and "not a video this server can read" in garbage.json()["detail"]
    empty = client.post("/api/upload?name=clip.mp4", content=b"")
    assert empty.status_code == 415
    videos = client.app.state.workspace.store.root / "videos"
    assert list(videos.iterdir()) == [] and client.get("/api/projects").json() == []


def test_messages_about_file_names_quote_them_whole(client, clip):
    """The error handler stripped quotes off every message, so one that begins with a quoted name lost
    its opening quote (``notes.txt' is not a video file``)."""
    assert client.post("/api/upload?name=notes.txt", content=b"hi").json()["detail"].startswith("'notes.txt' is ")
    assert client.post("/api/upload?name=clip.mp4", content=b"").json()["detail"].startswith("'clip.mp4' is empty")
    garbage = client.post("/api/upload?name=clip.mp4", content=b"\x00junk" * 100)
    assert garbage.json()["detail"].startswith("'clip.mp4' is not a video this server can read")
    missing = client.post("/api/projects", json={"video": "none.mp4"})
    assert missing.json()["detail"].startswith("'none.mp4' is not a video or a folder of frames in the data folder")
    outside = client.post("/api/projects", json={"video": "../x.mp4"})
    assert outside.json()["detail"].startswith("'../x.mp4' is outside the data folder")


def test_a_key_error_answers_with_its_text_not_its_repr():
    from vidseg.web.app import message_of

    assert message_of(KeyError("frame 3 has no prompt")) == "frame 3 has no prompt"
    assert message_of(LookupError("project 9 does not exist")) == "project 9 does not exist"


def test_an_aborted_upload_logs_one_line_and_keeps_nothing(tmp_path, caplog):
    """A client that closes the connection mid-upload: one log line, no traceback, no partial file."""
    from vidseg.web.app import ServeConfig, create_app

    app = create_app(ServeConfig(data=tmp_path / "data", method="static"))
    chunks = [{"type": "http.request", "body": b"x" * 4096, "more_body": True}] * 3
    sent = []

    async def receive() -> dict:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/upload", "raw_path": b"/api/upload", "root_path": "", "query_string": b"name=clip.mp4",
             "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"video/mp4"),
                         (b"content-length", b"1000000")],
             "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000)}
    try:
        with caplog.at_level(logging.INFO):
            asyncio.run(app(scope, receive, send))  # before the fix: ClientDisconnect, a traceback in the log
    finally:
        app.state.workspace.store.close()
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1 and records[0].exc_info is None, [r.getMessage() for r in records]
    assert "disconnected" in records[0].getMessage() and "\n" not in records[0].getMessage()
    assert list((tmp_path / "data" / "videos").iterdir()) == []


def test_upload_over_the_limit_is_refused_and_leaves_nothing(tmp_path, clip):
    data = clip.video.read_bytes()
    with make_client(tmp_path / "data", max_upload_bytes=len(data) - 1) as client:
        declared = client.post("/api/upload?name=clip.mp4", content=data)
        assert declared.status_code == 413 and "limit" in declared.json()["detail"]
        streamed = client.post("/api/upload?name=clip.mp4", content=iter([data[:1000], data[1000:]]))  # chunked
        assert streamed.status_code == 413 and "--max-upload-mb" in streamed.json()["detail"]
        assert list((tmp_path / "data" / "videos").iterdir()) == []


def test_second_tab_gets_a_conflict_and_changes_nothing(client, clip):
    project = upload(client, clip)
    first = click(client, project, 0, clip.centre(0))  # tab 1, version 1 -> 2
    assert first.status_code == 200
    stale = click(client, project, 0, (5, 5), positive=False)  # tab 2 still on version 1
    assert stale.status_code == 409
    assert "another tab" in stale.json()["detail"] and "reload" in stale.json()["detail"]
    after = client.get(f"/api/projects/{project['id']}").json()
    assert after["version"] == 2
    stale_propagate = client.post(f"/api/projects/{project['id']}/propagate", json={"version": 1})
    assert stale_propagate.status_code == 409 and after["job"] is None


@pytest.mark.parametrize("body, words", [
    ({"frame": 0, "obj_id": 1, "clicks": [[400, 10, True]]}, "outside"),
    ({"frame": 12, "obj_id": 1, "clicks": [[10, 10, True]]}, "frames 0..11"),
    ({"frame": 0, "obj_id": 0, "clicks": [[10, 10, True]]}, "object id"),
    ({"frame": 0, "obj_id": 1, "clicks": []}, "no clicks"),
    ({"frame": 0, "obj_id": 1, "clicks": [[10, 10, False]]}, "must be positive"),
])
def test_bad_clicks_are_refused_with_a_message(client, clip, body, words):
    project = upload(client, clip)
    response = client.post(f"/api/projects/{project['id']}/clicks", json={"version": project["version"], **body})
    assert response.status_code == 400 and words in response.json()["detail"], response.text
    assert client.get(f"/api/projects/{project['id']}").json()["version"] == project["version"]


def test_other_bad_requests(client, clip):
    project = upload(client, clip)
    pid, version = project["id"], project["version"]
    box = client.post(f"/api/projects/{pid}/box", json={"version": version, "frame": 0, "obj_id": 1,
                                                        "box": [10, 10, 10, 50]})
    assert box.status_code == 400 and "area" in box.json()["detail"]
    nothing = client.post(f"/api/projects/{pid}/propagate", json={"version": version})
    assert nothing.status_code == 400 and "no object" in nothing.json()["detail"]
    assert client.post(f"/api/projects/{pid}/cancel").status_code == 400
    resume = client.post(f"/api/projects/{pid}/propagate", json={"version": version, "resume": True})
    assert resume.status_code == 400 and "resume" in resume.json()["detail"]
    assert client.get(f"/api/projects/{pid}/export?kinds=masks,gif").status_code == 400
    assert client.get(f"/api/projects/{pid}/export").status_code == 400  # nothing selected yet
    assert client.get("/api/projects/99").status_code == 404
    assert client.get(f"/api/projects/{pid}/frames/12.jpg").status_code == 400
    assert client.get(f"/api/projects/{pid}/masks/-1.png").status_code == 400
    assert client.post(f"/api/projects/{pid}/clicks", json={"frame": 0}).status_code == 422


def test_open_a_video_of_the_data_folder(client, clip):
    videos = client.app.state.workspace.store.root / "videos"
    (videos / "mine").mkdir()
    (videos / "mine" / "clip.mp4").write_bytes(clip.video.read_bytes())
    (videos / ".hidden.mp4").write_bytes(b"x")
    assert client.get("/api/videos").json() == ["mine/clip.mp4"]
    opened = client.post("/api/projects", json={"video": "mine/clip.mp4"})
    assert opened.status_code == 200 and opened.json()["num_frames"] == 12
    missing = client.post("/api/projects", json={"video": "mine/none.mp4"})
    assert missing.status_code == 400 and "videos/" in missing.json()["detail"]


def test_the_page_and_its_modules_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and b'type="module"' in page.content
    assert b"http" not in page.content.split(b"<body")[0]  # nothing fetched from elsewhere
    for name in ("app.js", "api.js", "overlay.js"):
        module = client.get(f"/static/js/{name}")
        assert module.status_code == 200 and b"https://" not in module.content
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_an_object_first_selected_on_a_later_frame_reaches_frame_0(client, clip):
    """Object 1 on frame 0 and object 2 first on frame 6, then one Propagate: the pass began at frame 0
    and went forward only, so object 2 never reached frames 0..5."""
    project = upload(client, clip)
    pid = project["id"]
    version = click(client, project, 0, clip.centre(0)).json()["version"]
    corner = client.post(f"/api/projects/{pid}/box",
                         json={"version": version, "frame": 6, "obj_id": 2, "box": [0, 0, 60, 60]})
    assert corner.status_code == 200, corner.text
    assert (mask_of(client, pid, 6) == 2).any()
    client.post(f"/api/projects/{pid}/propagate", json={"version": corner.json()["version"]})
    done = wait_job(client, pid)
    assert done["job"]["state"] == "done" and done["computed"] == list(range(12))
    for frame in (0, 3, 11):
        labels = mask_of(client, pid, frame)
        assert (labels == 2).any() and (labels == 1).any(), frame


def test_undo_takes_back_the_last_click_then_the_one_before(client, clip):
    project = upload(client, clip)
    pid = project["id"]
    assert project["can_undo"] is False
    first = click(client, project, 0, clip.centre(0)).json()
    selected = mask_of(client, pid, 0)
    second = click(client, first, 0, clip.centre(0), positive=False).json()  # a wrong click: removes the disc
    assert not np.array_equal(mask_of(client, pid, 0), selected)
    undone = client.post(f"/api/projects/{pid}/undo", json={"version": second["version"]})
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone_frame"] == 0 and undone.json()["version"] == second["version"] + 1
    assert np.array_equal(mask_of(client, pid, 0), selected)
    again = client.post(f"/api/projects/{pid}/undo", json={"version": undone.json()["version"]}).json()
    assert again["prompted"] == [] and again["objects"] == [] and not mask_of(client, pid, 0).any()
    assert again["can_undo"] is False
    nothing = client.post(f"/api/projects/{pid}/undo", json={"version": again["version"]})
    assert nothing.status_code == 400 and "nothing to undo" in nothing.json()["detail"]
    stale = client.post(f"/api/projects/{pid}/undo", json={"version": 1})
    assert stale.status_code == 409


def test_undo_survives_a_restart(tmp_path, clip):
    with make_client(tmp_path / "data") as client:
        project = upload(client, clip)
        version = click(client, project, 4, clip.centre(4)).json()["version"]
    with make_client(tmp_path / "data") as client:
        undone = client.post(f"/api/projects/{project['id']}/undo", json={"version": version})
        assert undone.status_code == 200 and undone.json()["prompted"] == []


def test_delete_and_rename_an_object(client, clip):
    project = upload(client, clip)
    pid = project["id"]
    one = click(client, project, 0, clip.centre(0)).json()
    two = client.post(f"/api/projects/{pid}/box", json={"version": one["version"], "frame": 0, "obj_id": 2,
                                                        "box": [0, 0, 60, 60]}).json()
    client.post(f"/api/projects/{pid}/propagate", json={"version": two["version"]})
    done = wait_job(client, pid)
    assert (mask_of(client, pid, 7) == 2).any()
    named = client.patch(f"/api/projects/{pid}/objects/1", json={"name": "  red   disc "})
    assert named.status_code == 200 and named.json()["names"] == {"1": "red disc"}
    assert client.patch(f"/api/projects/{pid}/objects/9", json={"name": "x"}).status_code == 400
    assert client.patch(f"/api/projects/{pid}/objects/1", json={"name": "  "}).status_code == 400
    deleted = client.delete(f"/api/projects/{pid}/objects/2?version={named.json()['version']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["objects"] == [1] and deleted.json()["computed"] == done["computed"]
    for frame in (0, 7, 11):
        assert set(np.unique(mask_of(client, pid, frame))) == {0, 1}
    store = client.app.state.workspace.store
    assert all(not (read_mask(store.mask_path(pid, i)).labels == 2).any() for i in range(12))  # the files too
    again = client.delete(f"/api/projects/{pid}/objects/2?version={deleted.json()['version']}")
    assert again.status_code == 400 and "nothing to delete" in again.json()["detail"]


def test_rename_and_delete_a_project(client, clip):
    project = upload(client, clip)
    pid = project["id"]
    renamed = client.patch(f"/api/projects/{pid}", json={"name": "street, take 2"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "street, take 2"
    assert client.get("/api/projects").json()[0]["name"] == "street, take 2"
    click(client, renamed.json(), 0, clip.centre(0))
    client.get(f"/api/projects/{pid}/frames/0.jpg")
    store = client.app.state.workspace.store
    assert store.project_dir(pid).is_dir() and len(list((store.root / "videos").iterdir())) == 1
    assert client.delete(f"/api/projects/{pid}").status_code == 200
    assert client.get("/api/projects").json() == [] and client.get(f"/api/projects/{pid}").status_code == 404
    assert not store.project_dir(pid).exists() and list((store.root / "videos").iterdir()) == []
    assert client.delete(f"/api/projects/{pid}").status_code == 404


def test_a_video_of_the_data_folder_is_kept_when_its_project_is_deleted(client, clip):
    videos = client.app.state.workspace.store.root / "videos"
    (videos / "mine.mp4").write_bytes(clip.video.read_bytes())
    pid = client.post("/api/projects", json={"video": "mine.mp4"}).json()["id"]
    assert client.delete(f"/api/projects/{pid}").status_code == 200
    assert (videos / "mine.mp4").is_file()


def test_the_same_file_twice_opens_its_project_under_the_files_name(client, clip):
    first = upload(client, clip, name="my holiday.mp4")
    assert first["name"] == "my holiday.mp4"
    again = upload(client, clip, name="copy.mp4")
    assert again["id"] == first["id"] and again["name"] == "my holiday.mp4"
    assert len(client.get("/api/projects").json()) == 1
    assert len(list((client.app.state.workspace.store.root / "videos").iterdir())) == 1
    videos = client.app.state.workspace.store.root / "videos"
    (videos / "mine.mp4").write_bytes(clip.video.read_bytes())
    opened = client.post("/api/projects", json={"video": "mine.mp4"}).json()
    assert client.post("/api/projects", json={"video": "mine.mp4"}).json()["id"] == opened["id"]
    assert [p["name"] for p in client.get("/api/projects").json()] == ["mine.mp4", "my holiday.mp4"]


def test_the_start_page_says_what_to_do_and_waits_for_a_project(client):
    page = client.get("/").text
    start = page.split('<div id="start">')[1].split("</div>")[0]
    assert all(words in start for words in ("Open a video", "Select an object", "Propagate", "Download zip"))
    assert '<button id="propagate" disabled>' in page and 'id="export-link" class="button" href="#" aria-disabled="true"' in page
    assert '<div id="stage" hidden>' in page and '<button id="undo" disabled' in page
    assert "export const del = " in client.get("/static/js/api.js").text


def test_open_a_folder_of_frames_of_the_data_folder(client, clip):
    from tests.web.conftest import disc_clip

    frames, _ = disc_clip(num_frames=5)
    folder = client.app.state.workspace.store.root / "videos" / "shots" / "disc"
    folder.mkdir(parents=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{i:05d}.png")
    (folder.parent / "notes.txt").write_text("not frames")
    assert client.get("/api/videos").json() == ["shots/disc/"]
    opened = client.post("/api/projects", json={"video": "shots/disc/"})
    assert opened.status_code == 200, opened.text
    project = opened.json()
    assert (project["name"], project["num_frames"], project["width"]) == ("disc", 5, 320)
    version = click(client, project, 0, clip.centre(0)).json()["version"]
    client.post(f"/api/projects/{project['id']}/propagate", json={"version": version})
    assert wait_job(client, project["id"])["computed"] == list(range(5))
    assert client.post("/api/projects", json={"video": "shots"}).status_code == 400  # no images directly inside
