"""Clients that would take `grabber serve` down (issue 9, item 5): idle connections that fill
every slot, and clients that ask for a 10 MB snapshot and never read it. Loopback only: the
attackers connect from other 127.x addresses, the legitimate client from 127.0.0.1."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import socket
import time
from collections.abc import Iterator

import pytest

from xfail_grabber.sinks.serve.app import create_app
from xfail_grabber.sinks.serve.runner import MAX_CONNECTIONS_PER_CLIENT, ServerThread
from xfail_grabber.sinks.serve.state import DataState

from ..serve.snapshots import small_snapshot
from .bounded import Served, serving, wait_for

BIG_REASON = 10_000_000


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A served repository whose /api/snapshot is over 10 MB."""
    repo = tmp_path_factory.mktemp("big")
    reason = "r" * BIG_REASON
    (repo / "test_big.py").write_text(
        f"import pytest\n@pytest.mark.skip(reason='{reason}')\ndef test_a(): pass\n"
    )
    with serving(repo, "--refresh", "0", timeout=180) as served:
        assert len(wait_for(served.port, "/api/snapshot")) > BIG_REASON
        yield served


def status_of(port: int, path: str = "/api/info") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def connect_from(address: str, port: int, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((address, 0))
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    return sock


@contextlib.contextmanager
def opened(sockets: list[socket.socket]) -> Iterator[list[socket.socket]]:
    try:
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_1100_idle_connections_from_one_address_leave_room_for_others(big_server: Served) -> None:
    before = big_server.rss_mb()
    with opened([connect_from("127.0.0.2", big_server.port) for _ in range(1100)]) as idle:
        started = time.monotonic()
        assert status_of(big_server.port) == 200  # was 503 for everyone
        assert time.monotonic() - started < 5
        time.sleep(0.5)
        still_open = [sock for sock in idle if not closed_by_server(sock)]
        assert len(still_open) <= MAX_CONNECTIONS_PER_CLIENT
        assert big_server.rss_mb() - before < 50


def test_1100_idle_connections_from_many_addresses_leave_room_for_others(
    big_server: Served,
) -> None:
    before = big_server.rss_mb()
    addresses = [f"127.0.2.{n}" for n in range(1, 23)]  # 22 x 50: each under the per-client cap
    sockets = [connect_from(a, big_server.port) for a in addresses for _ in range(50)]
    with opened(sockets):
        for _ in range(3):
            assert status_of(big_server.port) == 200  # the longest idle connection made room
        assert big_server.rss_mb() - before < 50


def test_200_clients_that_never_read_a_10_mb_snapshot(big_server: Served) -> None:
    before = big_server.rss_mb()
    request = f"GET /api/snapshot HTTP/1.1\r\nHost: 127.0.0.1:{big_server.port}\r\n\r\n".encode()
    sockets = [
        connect_from(f"127.0.3.{n}", big_server.port, receive_buffer=4096) for n in range(1, 201)
    ]
    with opened(sockets):
        for sock in sockets:
            sock.sendall(request)
        time.sleep(3)  # every request is being answered (and not read) now
        assert status_of(big_server.port, "/healthz") == 200
        grown = big_server.rss_mb() - before
        assert grown < 150, grown  # was 7.4 GB: a copy of the body per connection


def test_a_client_that_stops_reading_is_dropped_at_the_deadline() -> None:
    small = small_snapshot()
    big = dataclasses.replace(
        small, muted=(dataclasses.replace(small.muted[0], reason="r" * 5_000_000),)
    )
    state = DataState(lambda: big)
    state.refresh()
    with ServerThread(create_app(state), download_deadline=1.0) as server:
        sock = connect_from("127.0.0.1", server.port, receive_buffer=4096)
        with opened([sock]):
            sock.sendall(b"GET /api/snapshot HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(100)  # the answer has started
            connections = server.server.server_state.connections
            deadline = time.monotonic() + 10
            while connections and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not connections  # aborted at the deadline, its buffers freed
