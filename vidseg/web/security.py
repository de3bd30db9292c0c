"""The web server's guards: where it may bind, who may call it, and which paths it may touch.

- Bind: loopback by default; any other address needs a token (``check_bind`` refuses to start).
- Token: with one set, every request must carry it (``Authorization: Bearer``, or the cookie the
  page ``/?token=...`` sets); compared in constant time.
- Same origin only: no CORS headers are ever sent, so browsers keep other sites from reading
  answers; state-changing requests whose ``Origin`` (or ``Sec-Fetch-Site``) says they come from
  another site are refused, and on loopback the ``Host`` (and any ``Origin``) must be a loopback
  literal with the server's port (DNS rebinding): ``127.x.y.z`` as a strict dotted quad, ``localhost``
  or ``[::1]``; a look-alike such as ``127.evil.example`` is a name an attacker's DNS can point anywhere.
- Paths: the client names files only relative to a folder of the data folder (``safe_join``).
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlsplit

from vidseg.errors import InputError

LOOPBACK_NAMES = frozenset({"localhost", "::1", "[::1]"})  # besides 127.0.0.0/8, which is_loopback parses
MIN_TOKEN_LENGTH = 16
TOKEN_COOKIE = "vidseg_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; frame-ancestors 'none'"),
]


def is_loopback(host: str) -> bool:
    """True for a loopback literal: ``localhost``, ``::1`` (bracketed or not) or an IPv4 address of
    127.0.0.0/8 written as a strict dotted quad. ``ipaddress`` refuses the look-alikes (``127.1``,
    ``0x7f.0.0.1``, ``127.000.0.1``, ``127.0.0.1.evil``); browsers send the canonical form anyway."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return False


def is_loopback_authority(authority: str, port: int) -> bool:
    """True if ``authority`` (a ``Host`` header, or an origin's ``host[:port]``) names a loopback literal
    with ``port``; no port means 80, as in an http URL."""
    host, port_text = _split_authority(authority)
    return is_loopback(host) and (port_text or "80") == str(port)


def check_bind(host: str, token: str | None) -> None:
    """InputError unless binding ``host`` is safe: loopback, or any address with a long enough token."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise InputError(f"--token is too short ({len(token)} characters); use at least {MIN_TOKEN_LENGTH}, "
                         "e.g. from: python -c 'import secrets; print(secrets.token_urlsafe())'")
    if not is_loopback(host) and token is None:
        raise InputError(f"binding to {host} lets other machines reach the server: pass --token TOKEN "
                         "(at least 16 characters), or bind to 127.0.0.1")


def safe_join(base: Path, relative: str) -> Path:
    """``base / relative`` if it stays inside ``base`` (after resolving links); InputError otherwise."""
    if not isinstance(relative, str) or not relative or "\0" in relative or "\\" in relative:
        raise InputError(f"{relative!r} is not a file name in the data folder")
    parts = PurePosixPath(relative).parts
    if PurePosixPath(relative).is_absolute() or any(p in ("..", ".") for p in parts) or relative.startswith("~"):
        raise InputError(f"{relative!r} is outside the data folder; give a name relative to it")
    base = base.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):
        raise InputError(f"{relative!r} is outside the data folder; give a name relative to it")
    return target


@dataclass(frozen=True)
class Guard:
    """What the middleware enforces: the token (None: none needed), whether Host must be loopback,
    and the server's port (the one a loopback Host and Origin must name)."""

    token: str | None
    loopback_only: bool
    port: int


class GuardMiddleware:
    """ASGI middleware: Host, token and same-origin checks before any route runs."""

    def __init__(self, app, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            return await _plain(send, *refusal)
        if self.guard.token is not None and not self._authorised(headers):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            offered = query.get("token", [""])[0]
            if scope["path"] == "/" and _same(offered, self.guard.token):
                return await _set_cookie_and_redirect(send, self.guard.token)
            return await _plain(send, 401, "this server needs its token: open the address that 'vidseg serve' "
                                           "printed (it ends in ?token=...)")
        await self.app(scope, receive, _with_headers(send))

    def _refusal(self, scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host, port = headers.get("host", ""), self.guard.port
        if self.guard.loopback_only and not is_loopback_authority(host, port):
            return 400, (f"unexpected Host {host!r}: this server answers only to 127.0.0.1:{port}, "
                         f"localhost:{port} or [::1]:{port}")
        if scope["method"] in SAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is not None and origin != "null":
            if not self._same_origin(origin, host):
                return 403, f"cross-origin request from {origin} refused; use the page this server serves"
        elif origin == "null" or headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return 403, "cross-origin request refused; use the page this server serves"
        return None

    def _same_origin(self, origin: str, host: str) -> bool:
        """The origin is this server's own: it names the Host the request came to, and on loopback it
        passes the same loopback check (an http URL of a loopback literal with the server's port)."""
        try:
            parsed = urlsplit(origin)
        except ValueError:  # e.g. "http://[::1": not an origin at all
            return False
        if parsed.netloc.lower() != host.lower():
            return False
        return not self.guard.loopback_only or (parsed.scheme == "http"
                                                and is_loopback_authority(parsed.netloc, self.guard.port))

    def _authorised(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and _same(auth[7:].strip(), self.guard.token):
            return True
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == TOKEN_COOKIE and _same(value, self.guard.token):
                return True
        return False


def _same(offered: str, token: str) -> bool:
    return hmac.compare_digest(offered.encode("utf-8"), token.encode("utf-8"))


def _split_authority(authority: str) -> tuple[str, str | None]:
    """``host[:port]`` as (host, port text or None); an IPv6 host keeps its brackets."""
    end = authority.find("]") + 1 if authority.startswith("[") else 0
    host, colon, port = authority[end:].partition(":")
    return authority[:end] + host, (port if colon else None)


def _with_headers(send):
    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
        await send(message)
    return wrapped


async def _plain(send, status: int, text: str) -> None:
    import json

    body = json.dumps({"detail": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


async def _set_cookie_and_redirect(send, token: str) -> None:
    cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", b"/"), (b"set-cookie", cookie), (b"content-length", b"0"), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": b""})
