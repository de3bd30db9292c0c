"""Bind rules, token, Host and Origin checks, and paths that try to leave the data folder."""

from __future__ import annotations

import pytest

from tests.web.conftest import make_client
from vidseg.errors import InputError
from vidseg.web.security import check_bind, safe_join

TOKEN = "s3cret-token-0123456789"


def test_loopback_needs_no_token_and_other_hosts_do():
    check_bind("127.0.0.1", None)
    check_bind("localhost", None)
    with pytest.raises(InputError, match="--token"):
        check_bind("0.0.0.0", None)
    with pytest.raises(InputError, match="at least 16"):
        check_bind("0.0.0.0", "short")
    check_bind("0.0.0.0", TOKEN)


@pytest.mark.parametrize("name", ["../vidseg.sqlite", "/etc/passwd", "a/../../x.mp4", "..", "", "~/x.mp4",
                                  "videos\\..\\x", "x\0.mp4"])
def test_safe_join_refuses_paths_outside(tmp_path, name):
    (tmp_path / "videos").mkdir()
    with pytest.raises(InputError):
        safe_join(tmp_path / "videos", name)


def test_safe_join_refuses_a_link_out(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "secret.mp4").write_bytes(b"x")
    (tmp_path / "videos" / "link.mp4").symlink_to(tmp_path / "secret.mp4")
    with pytest.raises(InputError, match="outside"):
        safe_join(tmp_path / "videos", "link.mp4")
    assert safe_join(tmp_path / "videos", "sub/ok.mp4") == (tmp_path / "videos" / "sub" / "ok.mp4").resolve()


@pytest.mark.parametrize("url", ["/static/../store.py", "/static/%2e%2e/store.py", "/static/..%2fstore.py",
                                 "/static/%2e%2e%2f%2e%2e%2fvidseg.sqlite", "/api/projects/1/frames/..%2f..%2fvidseg.sqlite"])
def test_traversal_urls_reach_nothing(client, url):
    response = client.get(url)
    assert response.status_code in (400, 404, 422), (url, response.status_code)
    assert b"SQLite" not in response.content and b"import" not in response.content


def test_opening_a_video_outside_the_data_folder_is_refused(client, tmp_path, clip):
    for name in ["../../" + str(clip.video), str(clip.video), "../vidseg.sqlite", "%2e%2e/x.mp4"]:
        response = client.post("/api/projects", json={"video": name})
        assert response.status_code == 400, name
        assert "data folder" in response.json()["detail"]


def test_foreign_host_is_refused_on_loopback(client):
    response = client.get("/api/projects", headers={"host": "evil.example:8000"})
    assert response.status_code == 400 and "Host" in response.json()["detail"]
    assert client.get("/api/projects", headers={"host": "localhost:8000"}).status_code == 200


def test_cross_origin_writes_are_refused_and_no_cors_is_granted(client):
    body = {"video": "x.mp4"}
    refused = client.post("/api/projects", json=body, headers={"origin": "http://evil.example"})
    assert refused.status_code == 403 and "cross-origin" in refused.json()["detail"]
    assert client.post("/api/projects", json=body, headers={"sec-fetch-site": "cross-site"}).status_code == 403
    assert client.post("/api/projects", json=body, headers={"origin": "null"}).status_code == 403
    same = client.post("/api/projects", json=body, headers={"origin": "http://127.0.0.1:8000"})
    assert same.status_code == 400  # reached the route: the video does not exist
    preflight = client.options("/api/projects", headers={"origin": "http://evil.example",
                                                         "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    answer = client.get("/api/projects", headers={"origin": "http://evil.example"})
    assert "access-control-allow-origin" not in answer.headers
    assert answer.headers["x-frame-options"] == "DENY"


def test_token_is_required_everywhere_and_sets_a_cookie(tmp_path):
    with make_client(tmp_path / "data", host="0.0.0.0", token=TOKEN) as client:
        assert client.get("/api/projects").status_code == 401
        assert client.get("/").status_code == 401
        assert client.get("/static/js/app.js").status_code == 401
        assert client.get("/api/projects", headers={"authorization": "Bearer wrong-token-0123456789"}).status_code == 401
        assert client.get("/api/projects", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        landing = client.get(f"/?token={TOKEN}", follow_redirects=False)
        assert landing.status_code == 303 and "HttpOnly" in landing.headers["set-cookie"]
        assert "SameSite=Strict" in landing.headers["set-cookie"]
        assert client.get("/").status_code == 200  # the cookie now rides along
        # Any Host is fine off loopback (the token guards it), but cross-origin writes still are not.
        assert client.get("/api/projects", headers={"host": "10.0.0.5:8000"}).status_code == 200
        assert client.post("/api/projects", json={"video": "x"}, headers={"origin": "http://evil.example"}).status_code == 403


def test_serve_refuses_to_start_without_a_token_off_loopback(capsys, tmp_path):
    from tests.apps.cli_checks import assert_user_error, run_command

    code, _, err = run_command(capsys, ["serve", "--host", "0.0.0.0", "--data", tmp_path / "d"])
    assert_user_error(code, err, "--token", "0.0.0.0")
    code, _, err = run_command(capsys, ["serve", "--host", "0.0.0.0", "--token", "abc", "--data", tmp_path / "d"])
    assert_user_error(code, err, "too short")
    assert not (tmp_path / "d").exists()
