"""Loopback stand-ins for Jira, GitHub, GitLab and Bugzilla, answering in the shapes their
REST documentation gives (Jira REST v2, GitHub REST 2022-11-28, GitLab REST v4, Bugzilla 5
REST), including their error bodies and GitHub's rate-limit headers. Every request's path and
headers are logged so tests can see where tokens went."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JIRA = {
    "ABC-1": ("In Progress", "indeterminate", None, "Upload is flaky"),
    "ABC-2": ("Closed", "done", {"name": "Fixed"}, "Fixed the race"),
    "DCOS_OSS-7": ("Resolved", "done", {"name": "Done"}, "Windows tests"),
}
GITHUB = {"1": ("open", "Flaky upload"), "2": ("closed", "Fixed timeout")}
GITLAB = {"3": ("opened", "Nightly fails"), "4": ("closed", "Done now")}
BUGZILLA = {"5": ("RESOLVED", "FIXED", False, "Crash on exit"), "6": ("NEW", "", True, "Slow")}


class Tracker:
    def __init__(self) -> None:
        self.log: list[tuple[str, dict[str, str]]] = []
        self.rate_limited_once: set[str] = set()  # paths answered 403 + X-RateLimit first
        self.require_auth = False
        self.hang = False
        self.stopped = threading.Event()  # ends a hanging answer when the server stops
        self.errors: list[str] = []
        self.url = ""

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if self.hang:
            self.stopped.wait(5)
        if path in self.rate_limited_once:
            self.rate_limited_once.discard(path)
            reset = str(int(time.time()) + 1)
            return (
                403,
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
                {
                    "message": "API rate limit exceeded",
                    "documentation_url": "https://docs.github.com/rest/rate-limit",
                },
            )
        if path.startswith("/redirect"):
            return 301, {"location": "http://127.0.0.2:9/steal"}, {}
        if self.require_auth and "authorization" not in headers:
            return 401, {}, {"message": "Bad credentials"}
        base = path.split("?")[0]
        parts = base.strip("/").split("/")
        if base.startswith("/rest/api/2/issue/"):
            found = JIRA.get(parts[-1])
            if not found:
                return (
                    404,
                    {},
                    {
                        "errorMessages": [
                            "Issue does not exist or you do not have permission to see it."
                        ],
                        "errors": {},
                    },
                )
            name, category, resolution, summary = found
            status = {"name": name, "statusCategory": {"key": category, "name": category}}
            fields = {"summary": summary, "status": status, "resolution": resolution}
            return 200, {}, {"key": parts[-1], "fields": fields}
        if base.startswith("/repos/"):
            found_gh = GITHUB.get(parts[-1])
            if not found_gh:
                return (
                    404,
                    {},
                    {"message": "Not Found", "documentation_url": "https://docs.github.com"},
                )
            return 200, {}, {"number": int(parts[-1]), "state": found_gh[0], "title": found_gh[1]}
        if base.startswith("/api/v4/projects/"):
            found_gl = GITLAB.get(parts[-1])
            if not found_gl:
                return 404, {}, {"message": "404 Not found"}
            return 200, {}, {"iid": int(parts[-1]), "state": found_gl[0], "title": found_gl[1]}
        if base.startswith("/rest/bug/"):
            found_bz = BUGZILLA.get(parts[-1])
            if not found_bz:
                return 404, {}, {"error": True, "code": 101, "message": "Bug #9 does not exist."}
            status, resolution, is_open, summary = found_bz
            bug = {"id": int(parts[-1]), "status": status, "resolution": resolution,
                   "is_open": is_open, "summary": summary}  # fmt: skip
            return 200, {}, {"bugs": [bug], "faults": []}
        return 404, {}, {"message": "no such route"}


@contextmanager
def tracker() -> Iterator[Tracker]:
    state = Tracker()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.log.append((self.path, headers))
            status, extra, body = state.answer(self.path, headers)
            data = json.dumps(body).encode()
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        block_on_close = True  # server_close() waits for the handler threads

        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client that gave up (a timeout test) is expected; never print to stderr,
            # where it would land in another test's captured output.
            import sys

            state.errors.append(repr(sys.exc_info()[1]))

    server = Server(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopped.set()
        server.shutdown()
        server.server_close()
