"""``vidseg serve``: its options, the checks made before binding, and the server run."""

from __future__ import annotations

import argparse
from pathlib import Path

from vidseg.errors import InputError

DEFAULT_DATA = Path("vidseg-data")


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
    p.add_argument("--quiet", action="store_true", help="no request log")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from vidseg.web.security import check_bind

    check_bind(args.host, args.token)
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port} is not a port; use 1..65535")
    if args.max_upload_mb <= 0:
        raise InputError("--max-upload-mb must be positive")
    if args.data.exists() and not args.data.is_dir():
        raise InputError(f"--data {args.data} is a file; give a folder (it is created if missing)")
    try:
        import uvicorn

        from vidseg.web.app import ServeConfig, create_app
    except ImportError as error:
        raise InputError(f"the web application needs its extra ({error.name} is missing): "
                         "pip install -e '.[web]'") from None
    config = ServeConfig(data=args.data, host=args.host, port=args.port, token=args.token,
                         max_upload_bytes=int(args.max_upload_mb * 2**20), method=args.method)
    app = create_app(config)
    app.state.workspace.warm_up()
    address = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}/"
    print(f"vidseg serve: open {address}{'?token=' + args.token if args.token else ''}  (data: {args.data})",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet else "info")
    return 0
