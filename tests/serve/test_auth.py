from __future__ import annotations

import base64
import logging

import pytest

from xfail_grabber.sinks.serve.guard import token_matches

from .conftest import StartServer

TOKEN = "s3cret-t0ken"
ROUTES = (
    "/",
    "/static/app.js",
    "/redash",
    "/api/snapshot",
    "/api/muted",
    "/api/trend",
    "/api/info",
    "/muted.csv",
    "/healthz",
    "/metrics",
)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer   {TOKEN}", True),
        (basic("redash", TOKEN), True),
        (basic("", TOKEN), True),
        (basic(TOKEN, ""), False),
        (f"Bearer {TOKEN}x", False),
        (f"Bearer {TOKEN[:-1]}", False),
        ("Bearer ", False),
        (TOKEN, False),
        ("Basic !!!not-base64", False),
        ("Basic " + base64.b64encode(TOKEN.encode()).decode(), False),  # no colon
        (f"Token {TOKEN}", False),
    ],
)
def test_token_matches(header: str, ok: bool) -> None:
    assert token_matches(header.encode(), TOKEN.encode()) is ok


def test_every_route_needs_the_token(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = start_server(token=TOKEN)
    for path in ROUTES:
        denied = server.get(path)
        assert denied.status == 401, path
        assert denied.headers["www-authenticate"].startswith("Basic realm=")
        assert TOKEN not in denied.text
        assert server.get(path, Authorization=f"Bearer {TOKEN}").status == 200, path
        assert server.get(path, Authorization=basic("user", TOKEN)).status == 200, path
        assert server.get(path, Authorization=basic("user", "wrong")).status == 401, path
    assert server.request("/refresh", method="POST").status == 401
    ok = server.request("/refresh", method="POST", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status == 202
    assert TOKEN not in caplog.text


def test_no_token_means_open(start_server: StartServer) -> None:
    assert start_server().get("/redash").status == 200
