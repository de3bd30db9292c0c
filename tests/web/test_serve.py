"""``vidseg serve``'s checks before it binds: each mistake is one line, exit code 2, nothing started."""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.apps.cli_checks import assert_user_error, run_command
from tests.web.browser import free_port
from vidseg.errors import InputError
from vidseg.web.serve import listen


@pytest.mark.parametrize("options, words", [
    (["--port", "0"], ["--port"]),
    (["--port", "70000"], ["--port"]),
    (["--max-upload-mb", "0"], ["--max-upload-mb"]),
    (["--host", "192.168.1.2"], ["--token", "192.168.1.2"]),
])
def test_bad_options_are_one_line_errors(capsys, tmp_path, options, words):
    code, _, err = run_command(capsys, ["serve", "--data", tmp_path / "data", *options])
    assert_user_error(code, err, *words)


def test_data_that_is_a_file_is_refused(capsys, tmp_path):
    (tmp_path / "data").write_text("x")
    code, _, err = run_command(capsys, ["serve", "--data", tmp_path / "data"])
    assert_user_error(code, err, "is a file")


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_an_upload_limit_that_is_not_a_size_is_refused(capsys, tmp_path, value):
    code, _, err = run_command(capsys, ["serve", "--data", tmp_path / "data", "--max-upload-mb", value])
    assert_user_error(code, err, "--max-upload-mb")


@pytest.mark.parametrize("method, words", [("nope", ["unknown method 'nope'"]),
                                           ("missing.pt", ["--method", "no checkpoint"])])
def test_an_unknown_method_is_refused_before_anything_starts(capsys, tmp_path, method, words):
    code, out, err = run_command(capsys, ["serve", "--data", tmp_path / "data", "--method", method,
                                          "--port", str(free_port())])
    assert_user_error(code, err, *words)
    assert out == "" and not (tmp_path / "data").exists()


def test_a_checkpoint_that_does_not_load_is_refused_before_the_address_is_printed(capsys, tmp_path):
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    code, out, err = run_command(capsys, ["serve", "--data", tmp_path / "data", "--method", tmp_path / "broken.pt",
                                          "--port", str(free_port())])
    assert_user_error(code, err, "broken.pt")
    assert "open http" not in out


def test_a_port_in_use_is_refused_before_the_address_is_printed(capsys, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run_command(capsys, ["serve", "--data", tmp_path / "data", "--port", port])
    assert_user_error(code, err, f"port {port} is in use", "--port")
    assert out == "" and not (tmp_path / "data").exists()


def test_listen_binds_the_port_for_the_server(tmp_path):
    sockets = listen("127.0.0.1", 0)
    try:
        assert len(sockets) == 1 and sockets[0].getsockname()[0] == "127.0.0.1"
        with pytest.raises(InputError, match="is in use"):
            listen("127.0.0.1", sockets[0].getsockname()[1])
    finally:
        sockets[0].close()
    with pytest.raises(InputError, match="not an address of this machine"):
        listen("192.0.2.1", 8000)  # TEST-NET-1: never this machine's


def test_connections_to_the_bound_port_send_small_answers_at_once():
    """Nagle off (TCP_NODELAY) on the server's side of each connection, as asyncio sets it for TCP
    sockets; on a socket bound with protocol 0 it did not, and every small answer (a mask's PNG, a
    click's JSON) waited ~40 ms for the browser's delayed ACK."""
    import asyncio

    async def accepted_nodelay() -> int:
        sockets = listen("127.0.0.1", 0)
        seen: asyncio.Future = asyncio.get_running_loop().create_future()

        def connected(reader, writer) -> None:
            seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=sockets[0])
        async with server:
            _, writer = await asyncio.open_connection(*sockets[0].getsockname())
            value = await asyncio.wait_for(seen, 10)
            writer.close()
        return value

    assert asyncio.run(accepted_nodelay()) != 0


def test_serve_answers_on_the_address_it_prints(tmp_path):
    """A real ``vidseg serve``: the printed address works (its Host names the port served)."""
    import httpx

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "vidseg.apps.cli", "serve", "--port", str(port),
                                "--data", str(tmp_path / "data"), "--method", "static", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 120)  # never hang the suite on a stuck server
        line = process.stdout.readline() if ready else ""
        assert f"open http://127.0.0.1:{port}/" in line, (line, process.stderr.read() if process.poll() else "")
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/config", timeout=5)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and process.poll() is None, "the server did not answer"
                time.sleep(0.1)
        assert response.status_code == 200 and response.json()["method"] == "static"
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in err, err
