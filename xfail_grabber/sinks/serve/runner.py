"""Running the app under uvicorn, with limits: header size, header-read deadline, keep-alive,
connections (in all and per client address), send buffers and a write deadline, concurrency.
Used by `grabber serve` (main thread, signals handled) and by tests (a thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEADER_BYTES = 16 * 1024  # request line plus headers
HEADER_DEADLINE_SECONDS = 10.0  # a request's headers must be complete within this
DOWNLOAD_DEADLINE_SECONDS = 60.0  # a response must be read by the client within this
KEEP_ALIVE_SECONDS = 5
# Open connections: beyond MAX_CONNECTIONS the longest idle one is closed to make room (idle
# connections alone never lock others out), and one client address may hold at most
# MAX_CONNECTIONS_PER_CLIENT (a new one beyond is closed at once).
MAX_CONNECTIONS = 1000
MAX_CONNECTIONS_PER_CLIENT = 64
MAX_CONCURRENCY = 2 * MAX_CONNECTIONS  # requests in flight; beyond it, 503
# The kernel's send buffer per connection (Linux grows it to 4 MB otherwise): what a client
# that does not read can hold in the kernel, beside the 64 KB asyncio holds.
SEND_BUFFER_BYTES = 256 * 1024
BACKLOG = 2048


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus deadlines for receiving a request's headers and for the
    client to read the response.

    A client that opens a connection and trickles its headers (slowloris) costs only a
    buffered socket and is cut off at the deadline; other clients are served meanwhile. A
    client that reads a response slowly keeps its buffer at most DOWNLOAD_DEADLINE_SECONDS.
    """

    deadline_seconds = HEADER_DEADLINE_SECONDS
    download_seconds = DOWNLOAD_DEADLINE_SECONDS
    max_connections = MAX_CONNECTIONS
    max_per_client = MAX_CONNECTIONS_PER_CLIENT
    _deadline: asyncio.TimerHandle | None = None
    _write_deadline: asyncio.TimerHandle | None = None
    _timed_cycle: object = None
    _response_done_at = 0.0
    _last_active = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._last_active = self.loop.time()
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        if not self._admitted():
            transport.abort()
            return
        self._arm_deadline()

    def _admitted(self) -> bool:
        """Room for this connection: under the per-client bound, and under the total once the
        longest idle connection (if needed) is closed."""
        others = [c for c in self.connections if c is not self]
        peer = self.client[0] if self.client else None
        if peer is not None:
            clients = [getattr(c, "client", None) for c in others]
            same = sum(1 for client in clients if client is not None and client[0] == peer)
            if same >= self.max_per_client:
                return False
        if len(others) < self.max_connections:
            return True
        idle = [c for c in others if isinstance(c, DeadlineH11Protocol) and c._idle()]
        if not idle:
            return False
        min(idle, key=lambda c: c._last_active).transport.abort()
        return True

    def _idle(self) -> bool:
        return (self.cycle is None or self.cycle.response_complete) and (
            self.transport.get_write_buffer_size() == 0
        )

    def data_received(self, data: bytes) -> None:
        self._last_active = self.loop.time()
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        self._cancel_write_deadline()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._cancel_deadline()
            if self.cycle is not self._timed_cycle:
                # A response must be read within the download deadline, however it is sent.
                self._timed_cycle = self.cycle
                self._arm_write_deadline(self.download_seconds)

    def on_response_complete(self) -> None:
        # Armed before the parent handles a pipelined request, which cancels it again.
        self._last_active = self._response_done_at = self.loop.time()
        self._cancel_write_deadline()
        self._arm_deadline()
        super().on_response_complete()

    def _arm_write_deadline(self, seconds: float) -> None:
        self._cancel_write_deadline()
        self._write_deadline = self.loop.call_later(seconds, self._write_deadline_passed)

    def _cancel_write_deadline(self) -> None:
        if self._write_deadline is not None:
            self._write_deadline.cancel()
            self._write_deadline = None

    def _write_deadline_passed(self) -> None:
        self._write_deadline = None
        if self.transport.is_closing() or self.cycle is None or self.cycle.response_complete:
            return
        if self.transport.get_write_buffer_size() > 0 or self.flow.write_paused:
            self.transport.abort()  # the client stopped reading: drop what it holds
        else:
            self._arm_write_deadline(self.deadline_seconds)  # the app is still working

    def _arm_deadline(self, seconds: float | None = None) -> None:
        self._cancel_deadline()
        delay = self.deadline_seconds if seconds is None else seconds
        self._deadline = self.loop.call_later(delay, self._deadline_passed)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        # Still sending the last response: the client gets until the download deadline.
        left = self._response_done_at + self.download_seconds - self.loop.time()
        if self.transport.get_write_buffer_size() > 0:
            if left > 0:
                self._arm_deadline(min(left, self.deadline_seconds))
            else:
                self.transport.abort()  # close() would wait for the buffer to drain
            return
        self.transport.close()


class Server(uvicorn.Server):
    """uvicorn's server, which on SIGINT/SIGTERM shuts down gracefully and then returns
    (exit code 0) instead of raising the signal again after the shutdown."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        captured = getattr(self, "_captured_signals", None)
        if isinstance(captured, list):
            captured.clear()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port); OSError if the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it small responses wait on delayed ACKs (40 ms each).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def make_server(
    app: ASGIApp,
    *,
    access_log: bool = False,
    header_deadline: float = HEADER_DEADLINE_SECONDS,
    download_deadline: float = DOWNLOAD_DEADLINE_SECONDS,
    **overrides: Any,
) -> uvicorn.Server:
    protocol = type(
        "DeadlineH11Protocol",
        (DeadlineH11Protocol,),
        {"deadline_seconds": header_deadline, "download_seconds": download_deadline},
    )
    config = uvicorn.Config(
        app,
        http=protocol,
        ws="none",
        lifespan="off",
        log_config=None,
        access_log=access_log,
        server_header=False,
        proxy_headers=False,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=5,
        limit_concurrency=MAX_CONCURRENCY,
        backlog=BACKLOG,
        **overrides,
    )
    return Server(config)


def serve_forever(app: ASGIApp, sock: socket.socket, *, access_log: bool = False) -> None:
    """Serve on `sock` until SIGINT or SIGTERM (call from the main thread)."""
    make_server(app, access_log=access_log).run(sockets=[sock])


class ServerThread:
    """The app served from a background thread on 127.0.0.1 (tests, benchmarks)."""

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        header_deadline: float = HEADER_DEADLINE_SECONDS,
        download_deadline: float = DOWNLOAD_DEADLINE_SECONDS,
    ) -> None:
        self.sock = bind(host, port)
        self.host = host
        self.port: int = self.sock.getsockname()[1]
        self.server = make_server(
            app, header_deadline=header_deadline, download_deadline=download_deadline
        )
        self.thread = threading.Thread(target=self._run, name="grabber-serve", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self, timeout: float = 10.0) -> ServerThread:
        self.thread.start()
        for _ in range(int(timeout / 0.01)):
            if self.server.started:
                return self
            if not self.thread.is_alive():
                break
            threading.Event().wait(0.01)
        raise RuntimeError("the server did not start")

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
