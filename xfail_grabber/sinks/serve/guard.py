"""The ASGI layer in front of every route: the Host header, cross-site requests,
authentication, request body limit, safe headers.

Tokens are compared with hmac.compare_digest and never logged or echoed.

The dashboard usually runs without a token on localhost, so a web page the user visits must
not reach it: with DNS rebinding, the page's own name resolves to 127.0.0.1 and the browser
sends `Host: evil.example` (refused unless that name is allowed), and a cross-site form or
fetch POSTs /refresh with an `Origin` or `Sec-Fetch-Site` saying where it came from (refused
for every method that changes state).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
# uvicorn/h11 bounds headers that arrive in pieces; these bound the ones that arrive at once.
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADER_COUNT = 100

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
)


def token_matches(authorization: bytes | None, token: bytes) -> bool:
    """A `Bearer TOKEN` header, or `Basic` with the token as password (any user name)."""
    if not authorization:
        return False
    scheme, _, credentials = authorization.strip().partition(b" ")
    credentials = credentials.strip()
    scheme = scheme.lower()
    if scheme == b"bearer":
        return hmac.compare_digest(credentials, token)
    if scheme == b"basic":
        try:
            decoded = base64.b64decode(credentials, validate=True)
        except (binascii.Error, ValueError):
            return False
        _, colon, password = decoded.partition(b":")
        return bool(colon) and hmac.compare_digest(password, token)
    return False


async def _send_json(
    send: Send, status: int, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *extra,
        *SECURITY_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _name(host: str) -> str:
    """A host as compared: lower case, no brackets, no trailing dot."""
    return host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str] | None:
    """The names a `Host` header may carry for a server bound to `bind_host`: that host (any
    loopback name when it is a loopback address), plus `extra` (`--allowed-host`). None
    (any host) for a wildcard bind without `extra`, or when `extra` holds `*`."""
    names = {_name(h) for h in extra}
    if "*" in names:
        return None
    host = _name(bind_host)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and address.is_unspecified:
        if not names:
            return None  # every interface, no names given: the operator chose to expose it
        return frozenset(names | set(LOOPBACK_NAMES))
    if host == "localhost" or (address is not None and address.is_loopback):
        names.update(LOOPBACK_NAMES)
    names.add(host)
    return frozenset(names)


def host_of(value: bytes) -> str:
    """The host part of a Host header (`name:port`, `[v6]:port`)."""
    text = value.decode("latin-1").strip()
    if text.startswith("["):
        return _name(text.split("]", 1)[0])
    return _name(text.rsplit(":", 1)[0] if text.count(":") == 1 else text)


def cross_site(headers: dict[bytes, bytes]) -> str | None:
    """Why a request that changes state comes from another site, or None.

    Browsers send `Sec-Fetch-Site` (modern ones) and `Origin` (on POST); clients that are
    not browsers (curl, cron jobs) send neither and are not refused."""
    site = headers.get(b"sec-fetch-site", b"").decode("latin-1").strip().lower()
    if site and site not in ("same-origin", "none"):
        return f"Sec-Fetch-Site is {site!r}"
    origin = headers.get(b"origin")
    if origin is None:
        return None
    text = origin.decode("latin-1").strip()
    parts = urlsplit(text)
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    if text == "null" or not parts.netloc or parts.netloc.lower() != host:
        return f"Origin {text!r} is not this server"
    return None


class Guard:
    """Wraps the app: checks the Host header, cross-site requests, the token and the request
    size; adds the security headers. `hosts`: the names a Host header may carry (None: any;
    see allowed_hosts)."""

    def __init__(
        self, app: ASGIApp, token: str | None, hosts: frozenset[str] | None = None
    ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_headers = scope["headers"]
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        size += sum(len(name) + len(value) + 4 for name, value in raw_headers)
        if size > MAX_HEADER_BYTES or len(raw_headers) > MAX_HEADER_COUNT:
            await _send_json(
                send,
                431,
                f"request headers larger than {MAX_HEADER_BYTES} bytes "
                f"or more than {MAX_HEADER_COUNT} of them",
                ((b"connection", b"close"),),
            )
            return
        headers = dict(raw_headers)
        host = headers.get(b"host")
        if self.hosts is not None and host is not None and host_of(host) not in self.hosts:
            await _send_json(
                send,
                421,
                "this server does not answer to that Host name; start grabber serve with "
                "--allowed-host NAME to allow it",
                ((b"connection", b"close"),),
            )
            return
        if scope["method"] not in SAFE_METHODS:
            why = cross_site(headers)
            if why is not None:
                await _send_json(send, 403, f"cross-site request refused: {why}")
                return
        if self.token is not None and not token_matches(headers.get(b"authorization"), self.token):
            await _send_json(
                send,
                401,
                "authentication required: send the token as a bearer token or "
                "as the password of HTTP basic auth",
                ((b"www-authenticate", b'Basic realm="grabber", charset="UTF-8"'),),
            )
            return
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            await _send_json(send, 413, f"request body larger than {MAX_BODY_BYTES} bytes")
            return
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            await _send_json(send, 411, "send a Content-Length, not a chunked body")
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
