"""Slow and oversized clients: bounded, and never in the way of the others."""

from __future__ import annotations

import contextlib
import http.client
import socket
import time

from xfail_grabber.sinks.formats import render_redash
from xfail_grabber.sinks.serve.app import create_app
from xfail_grabber.sinks.serve.runner import ServerThread, bind
from xfail_grabber.sinks.serve.state import DataState

from .conftest import Running
from .snapshots import big_snapshot, small_snapshot

HEALTH_ONCE = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_a_trickling_client_does_not_block_the_others() -> None:
    state = DataState(small_snapshot)
    state.refresh()
    with ServerThread(create_app(state), header_deadline=1.5) as server:
        slow = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(20)]
        try:
            for sock in slow:
                sock.sendall(b"GET /redash HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            for _ in range(20):
                reply = raw(server.port, HEALTH_ONCE)
                assert reply.startswith(b"HTTP/1.1 200 ")
            assert time.monotonic() - started < 2.0
            # The trickling clients go on sending one header line every half second ...
            for _ in range(2):
                time.sleep(0.5)
                for sock in slow:
                    sock.sendall(b"X-Slow: 1\r\n")
            # ... and are cut off at the header deadline without an answer.
            for sock in slow:
                sock.settimeout(3)
                assert sock.recv(100) == b""
        finally:
            for sock in slow:
                sock.close()


def test_an_idle_connection_is_closed_at_the_deadline() -> None:
    state = DataState(small_snapshot)
    with (
        ServerThread(create_app(state), header_deadline=0.5) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        started = time.monotonic()
        assert sock.recv(100) == b""
        assert 0.3 < time.monotonic() - started < 3


def test_oversized_headers_are_refused(running: Running) -> None:
    big = b"X-Big: " + b"a" * 20_000 + b"\r\n"
    reply = raw(running.server.port, b"GET /redash HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    assert reply.startswith(b"HTTP/1.1 431 ")
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(150))
    reply = raw(running.server.port, b"GET /redash HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert reply.startswith(b"HTTP/1.1 431 ")


def test_headers_trickled_past_the_limit_are_refused(running: Running) -> None:
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        sock.sendall(b"GET /redash HTTP/1.1\r\nHost: x\r\n")
        try:
            for _ in range(40):
                sock.sendall(b"X-Part: " + b"a" * 1000 + b"\r\n")
                time.sleep(0.005)
            reply = sock.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            reply = b"closed"  # refused and closed while we were still sending
    assert reply.startswith((b"HTTP/1.1 400 ", b"closed"))


def test_a_large_body_is_refused_unread(running: Running) -> None:
    reply = running.request("/refresh", method="POST", body=b"x" * 100_000)
    assert reply.status == 413
    chunked = raw(
        running.server.port,
        b"POST /refresh HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    )
    assert chunked.startswith(b"HTTP/1.1 411 ")


def test_keep_alive_serves_several_requests(running: Running) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        for _ in range(3):
            sock.sendall(request)
            data = b""
            while b"}" not in data:
                data += sock.recv(65536)
            assert data.startswith(b"HTTP/1.1 200 ")


def test_small_answers_do_not_wait_on_delayed_acks(running: Running) -> None:
    # Headers and body go out as two writes; without TCP_NODELAY the second waits for the
    # client's delayed ACK, about 40 ms per request on Linux.
    with bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
    conn = http.client.HTTPConnection("127.0.0.1", running.server.port, timeout=5)
    try:
        started = time.monotonic()
        for _ in range(20):
            conn.request("GET", "/healthz")
            assert conn.getresponse().read()
        assert time.monotonic() - started < 0.6
    finally:
        conn.close()


def test_a_slow_reader_gets_until_the_download_deadline() -> None:
    snapshot = big_snapshot(10_000)  # /redash: 7.7 MB, more than the kernel buffers hold
    state = DataState(lambda: snapshot)
    state.refresh()
    app = create_app(state)
    with ServerThread(app, header_deadline=0.3, download_deadline=1.5) as server:
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(5)
        try:
            slow.connect(("127.0.0.1", server.port))
            slow.sendall(b"GET /redash HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.8)  # past the header deadline, still downloading: kept open
            received = len(slow.recv(4096))
            assert received > 0
            # Others are served meanwhile.
            assert raw(server.port, HEALTH_ONCE).startswith(b"HTTP/1.1 200 ")
            time.sleep(1.2)  # past the download deadline: cut off
            total = received
            with contextlib.suppress(ConnectionResetError):
                while chunk := slow.recv(1 << 20):
                    total += len(chunk)
            assert total < len(render_redash(snapshot))
        finally:
            slow.close()
