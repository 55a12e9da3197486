"""A loopback smart-HTTP git server: `git http-backend` behind a token check.

Requests must carry `Authorization: Basic base64(x-access-token:TOKEN)`, else 401. While a
request is being served (that is, while a clone is in flight), `on_request` can inspect the
client's processes.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


class GitServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, token: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.expected = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
        self.requests: list[tuple[str, int]] = []  # (path, status)
        self.authorizations: list[str] = []  # every Authorization header received
        self.on_request: Callable[[], None] | None = None
        self.max_requests = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Quiet(BaseHTTPRequestHandler):
    """GET and POST both go to `answer`; no access log."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def answer(self) -> None:
        raise NotImplementedError


class _Handler(_Quiet):
    server: GitServer

    def answer(self) -> None:
        server = self.server
        if self.headers.get("Authorization") is not None:
            server.authorizations.append(self.headers["Authorization"])
        if len(server.requests) >= server.max_requests:
            self.send_error(503)
            return
        if self.headers.get("Authorization") != server.expected:
            server.requests.append((self.path, 401))
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if server.on_request is not None:
            server.on_request()
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_USER": "x-access-token",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(server.root),
        }
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        proc = subprocess.run(
            [HTTP_BACKEND], input=body, env=env, capture_output=True, timeout=30, check=False
        )
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        server.requests.append((self.path, status))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Redirect(_Quiet):
    server: RedirectServer

    def answer(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Authorization")))
        self.send_response(301)
        self.send_header("Location", self.server.target + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()


class RedirectServer(ThreadingHTTPServer):
    """Answers every request with a 301 to the same path on `target` (another origin)."""

    daemon_threads = True

    def __init__(self, target: str) -> None:
        super().__init__(("127.0.0.1", 0), _Redirect)
        self.target = target
        self.requests: list[tuple[str, str | None]] = []  # (path, Authorization header)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serve_redirect(target: str) -> Iterator[RedirectServer]:
    with _running(RedirectServer(target)) as server:
        yield server


@contextmanager
def stuck_server() -> Iterator[str]:
    """A loopback HTTP "server" that accepts connections and never answers; yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set() and len(held) < 64:
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for connection in held:
            connection.close()
        listener.close()


@contextmanager
def serve_git(root: Path, token: str) -> Iterator[GitServer]:
    with _running(GitServer(root, token)) as server:
        yield server


Server = TypeVar("Server", bound=ThreadingHTTPServer)


@contextmanager
def _running(server: Server) -> Iterator[Server]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
