"""Bind rules, token, Host and Origin checks, and paths that try to leave the data folder."""

from __future__ import annotations

import pytest

from tests.web.conftest import make_client
from vidseg.errors import InputError
from vidseg.web.security import check_bind, is_loopback, is_loopback_authority, safe_join

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


LOOK_ALIKES = ["127.evil.example", "127.0.0.1.evil.example", "127.1", "0x7f.0.0.1", "127.000.0.1", "127.0.0.01",
               "2130706433", "localhost.evil.example", "evil-localhost", "localhost.", "[::1].evil", "[::2]",
               "127.0.0.1 ", "１２７.0.0.1", "128.0.0.1", "0.0.0.0", ""]


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_names_that_only_look_like_loopback_are_not(name):
    assert not is_loopback(name)
    assert not is_loopback_authority(f"{name}:8000", 8000)


@pytest.mark.parametrize("name", ["127.0.0.1", "127.8.9.10", "127.255.255.255", "localhost", "LocalHost", "[::1]"])
def test_loopback_literals_pass_with_the_servers_port_only(name):
    assert is_loopback(name)
    assert is_loopback_authority(f"{name}:8000", 8000)
    for other in (f"{name}:8001", f"{name}:08000", f"{name}:+8000", f"{name}:8000:8000", f"{name}:8000x", name):
        assert not is_loopback_authority(other, 8000), other
    assert is_loopback_authority(name, 80)  # no port in an http URL means 80


def test_a_look_alike_bind_address_needs_a_token():
    with pytest.raises(InputError, match="--token"):
        check_bind("127.evil.example", None)
    check_bind("::1", None)


@pytest.mark.parametrize("name", ["127.evil.example", "127.0.0.1.evil.example", "127.1", "0x7f.0.0.1",
                                  "127.000.0.1", "localhost.evil.example"])
def test_a_rebinding_page_under_a_look_alike_name_can_do_nothing(client, name):
    """DNS rebinding: the attacker's name resolves to 127.0.0.1, so its page's requests carry its Host and
    a matching Origin; both must be refused, reads and writes."""
    headers = {"host": f"{name}:8000", "origin": f"http://{name}:8000"}
    read = client.get("/api/projects", headers=headers)
    assert read.status_code == 400 and "unexpected Host" in read.json()["detail"]
    write = client.post("/api/projects", json={"video": "x.mp4"}, headers=headers)
    assert write.status_code == 400 and "127.0.0.1:8000" in write.json()["detail"]


@pytest.mark.parametrize("authority", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "127.0.0.2:8000"])
def test_loopback_hosts_and_their_own_origin_reach_the_routes(client, authority):
    headers = {"host": authority, "origin": f"http://{authority}"}
    assert client.get("/api/projects", headers=headers).status_code == 200
    write = client.post("/api/projects", json={"video": "x.mp4"}, headers=headers)
    assert write.status_code == 400 and "videos/" in write.json()["detail"]  # reached the route


@pytest.mark.parametrize("host, origin", [
    ("127.0.0.1:8001", "http://127.0.0.1:8001"),  # another port: another server's page
    ("127.0.0.1:8000", "https://127.0.0.1:8000"),  # this server speaks http only
    ("127.0.0.1:8000", "http://127.evil.example:8000"),
    ("127.0.0.1:8000", "http://localhost:8000"),  # another origin, even if it is this machine
    ("127.0.0.1:8000", "http://[::1"),  # not an origin at all
])
def test_origins_other_than_the_servers_own_are_refused(client, host, origin):
    response = client.post("/api/projects", json={"video": "x.mp4"}, headers={"host": host, "origin": origin})
    assert response.status_code in (400, 403), response.text
    assert "Host" in response.json()["detail"] or "cross-origin" in response.json()["detail"]


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
