"""The ASGI layer in front of every route: authentication, request body limit, safe headers.

Tokens are compared with hmac.compare_digest and never logged or echoed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json

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


class Guard:
    """Wraps the app: checks the token and the request size, adds the security headers."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token else None

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
