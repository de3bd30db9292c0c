"""``vidseg serve``: its options, the checks made before binding, and the server run.

Order matters to the user: every option is checked (``check_options``) and the port bound
(``listen``) before anything is created, and the networks are loaded before the address is printed,
so a mistake is one line and exit code 2, never a printed address followed by a server log.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import socket
from pathlib import Path

from vidseg.errors import InputError

DEFAULT_DATA = Path("vidseg-data")
BACKLOG = 2048  # uvicorn's default


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("serve", help="the web application: annotate, correct and export video masks in a browser")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: %(default)s); any other than loopback needs --token")
    p.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="folder for projects, uploads and masks; put videos in its videos/ to open them "
                        "(default: %(default)s)")
    p.add_argument("--token", help="secret every request must carry (needed to bind other than 127.0.0.1; "
                                   "at least 16 characters)")
    p.add_argument("--max-upload-mb", type=float, default=500.0, help="largest upload (default: %(default)s MB)")
    p.add_argument("--method", default="default",
                   help="propagation method: 'default', 'flow', 'static' or a checkpoint (default: %(default)s)")
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnxruntime"],
                   help="what runs the networks: torch, or ONNX Runtime (the onnx extra); auto: ONNX Runtime "
                        "where the onnx extra is installed, else torch (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no request log")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_options(args)
    sockets = listen(args.host, args.port)
    try:
        return _serve(args, sockets)
    finally:
        for sock in sockets:
            sock.close()


def check_options(args: argparse.Namespace) -> None:
    """Every option of ``vidseg serve``, checked before anything is created, bound or imported."""
    from vidseg.web.security import check_bind

    check_bind(args.host, args.token)
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port} is not a port; use 1..65535")
    if not args.max_upload_mb > 0 or args.max_upload_mb == float("inf"):  # also NaN
        raise InputError(f"--max-upload-mb {args.max_upload_mb:g} is not a size; give a positive number of MB")
    if args.data.exists() and not args.data.is_dir():
        raise InputError(f"--data {args.data} is a file; give a folder (it is created if missing)")
    check_method(args.method)
    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(f"the web application needs its extra ({', '.join(missing)} missing): "
                         "pip install -e '.[web]'")


def check_method(method: str) -> None:
    """InputError for a method that is neither a known name nor an existing checkpoint file. (Whether
    the checkpoint loads is known when the networks load, still before the address is printed.)"""
    from vidseg.engine.vos.methods import weights_for

    weights = weights_for(method)
    if weights is not None and not weights.is_file():
        raise InputError(f"--method {method}: there is no checkpoint at {weights}; give a .pt file written by "
                         "'vidseg train vos', or a method name: default, flow, static")


def listen(host: str, port: int) -> list[socket.socket]:
    """Sockets bound to ``host:port``, one per address the name stands for (``localhost``: IPv4 and
    IPv6, as uvicorn would bind it). Bound here and handed to uvicorn, so a port in use is a one-line
    error before the address is printed, and no other program can take the port in between."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise InputError(f"--host {host} is not an address of this machine ({error.strerror})") from None
    sockets: list[socket.socket] = []
    try:
        for family, address in dict.fromkeys((info[0], info[4]) for info in infos):
            # IPPROTO_TCP named, not 0: asyncio turns Nagle off (TCP_NODELAY) only on connections whose
            # socket says TCP, and with Nagle on every small answer waited ~40 ms for a delayed ACK.
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a port in TIME_WAIT is free
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # the IPv4 address has its own socket
            sock.bind(address)
            sock.listen(BACKLOG)  # held from now: a second bind of the port fails even with SO_REUSEADDR
    except OSError as error:
        for sock in sockets:
            sock.close()
        raise InputError(_bind_error(host, port, error)) from None
    return sockets


def _bind_error(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (f"port {port} is in use: another program (perhaps another vidseg serve) listens on it; "
                "choose another with --port")
    if error.errno == errno.EACCES:
        return f"port {port} needs administrator rights here; choose one from 1024 up with --port"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine; use 127.0.0.1, or one of its addresses"
    return f"cannot listen on {host} port {port}: {error.strerror}"


def _serve(args: argparse.Namespace, sockets: list[socket.socket]) -> int:
    import uvicorn

    from vidseg.web.app import ServeConfig, create_app

    config = ServeConfig(data=args.data, host=args.host, port=args.port, token=args.token,
                         max_upload_bytes=int(args.max_upload_mb * 2**20), method=args.method,
                         backend=args.backend)
    app = create_app(config)
    workspace = app.state.workspace
    try:
        workspace.segmenter()  # the networks load now: a checkpoint that does not load is refused here
    except BaseException:
        workspace.store.close()
        raise
    workspace.warm_up()  # the first inference, in the background
    address = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}/"
    print(f"vidseg serve: open {address}{'?token=' + args.token if args.token else ''}  (data: {args.data})",
          flush=True)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port,
                                           log_level="warning" if args.quiet else "info"))
    try:
        server.run(sockets=sockets)
    except KeyboardInterrupt:  # uvicorn shut down cleanly on Ctrl-C, then raised it again
        pass
    return 0
