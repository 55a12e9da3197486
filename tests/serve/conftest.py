"""A real server on 127.0.0.1 (a free port, a background thread) over hand-built snapshots."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from xfail_grabber.model import Snapshot
from xfail_grabber.sinks.serve.app import create_app
from xfail_grabber.sinks.serve.runner import ServerThread
from xfail_grabber.sinks.serve.state import DataState, SnapshotProvider

from .snapshots import small_snapshot


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Running:
    server: ServerThread
    state: DataState

    def request(
        self,
        path: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **headers: str) -> Reply:
        return self.request(path, headers=headers)


StartServer = Callable[..., Running]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """start_server(provider=..., token=..., refresh=True): a running server; stopped after."""
    started: list[ServerThread] = []

    def start(
        provider: SnapshotProvider | None = None,
        *,
        token: str | None = None,
        refresh: bool = True,
        **app_options: Any,
    ) -> Running:
        snapshot = small_snapshot()
        state = DataState(provider or (lambda: snapshot))
        if refresh:
            state.refresh()
        server = ServerThread(create_app(state, token=token, **app_options)).start()
        started.append(server)
        return Running(server, state)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def running(start_server: StartServer) -> Running:
    return start_server()


def provider_of(snapshot: Snapshot) -> SnapshotProvider:
    return lambda: snapshot
