"""Look tickets up: each distinct ticket once, concurrently but bounded, with timeouts, rate
limits honoured, and results cached with a TTL. A tracker that is down, refuses or limits
us makes the answer `unknown`; a lookup never fails the scan.

Tokens come from the environment only and go only to their own tracker's origin (scheme,
host and port): redirects are not followed, so no header is ever sent anywhere else. They
are never logged, cached or stored: the cache holds status and title per ticket key.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .refs import TicketRef, Trackers

log = logging.getLogger("xfail_grabber")

MAX_BODY = 1024 * 1024
MAX_WAIT = 30.0  # seconds we wait for a rate limit to reset before giving up on a host
OPEN, CLOSED, UNKNOWN = "open", "closed", "unknown"


@dataclass(frozen=True)
class Status:
    status: str  # open, closed, unknown
    title: str | None = None
    why: str | None = None  # for unknown: what went wrong (never holds a secret)


@dataclass(frozen=True)
class Credentials:
    """Tokens from the environment, each bound to the origin it may be sent to."""

    # (tracker, origin) -> headers
    headers: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def from_env(cls, trackers: Trackers, env: Mapping[str, str] | None = None) -> Credentials:
        import base64
        from urllib.parse import urlsplit

        env = os.environ if env is None else env
        found: dict[tuple[str, str], dict[str, str]] = {}

        def origin(url: str) -> str:
            parts = urlsplit(url)
            return f"{parts.scheme}://{parts.netloc}"

        github = env.get("GRABBER_GITHUB_API_TOKEN") or env.get("GITHUB_TOKEN")
        if github:
            found["github", origin(trackers.github_api)] = {"authorization": f"Bearer {github}"}
        jira = env.get("JIRA_TOKEN")
        if jira and trackers.jira_url:
            user = env.get("JIRA_USER")
            if user:  # Jira Cloud: e-mail and API token
                basic = base64.b64encode(f"{user}:{jira}".encode()).decode()
                found["jira", origin(trackers.jira_url)] = {"authorization": f"Basic {basic}"}
            else:  # Jira Server / Data Center: a personal access token
                found["jira", origin(trackers.jira_url)] = {"authorization": f"Bearer {jira}"}
        gitlab = env.get("GITLAB_TOKEN")
        if gitlab:
            found["gitlab", origin(trackers.gitlab_url)] = {"private-token": gitlab}
        bugzilla = env.get("BUGZILLA_API_KEY")
        if bugzilla and trackers.bugzilla_url:
            found["bugzilla", origin(trackers.bugzilla_url)] = {"x-bugzilla-api-key": bugzilla}
        return cls(found)

    def for_ref(self, ref: TicketRef) -> Mapping[str, str]:
        """The headers for this ticket's tracker at its origin; none over plain http except
        to loopback."""
        if ref.origin.startswith("http://") and not _loopback(ref.origin):
            return {}
        return self.headers.get((ref.tracker, ref.origin), {})


def _loopback(origin: str) -> bool:
    from urllib.parse import urlsplit

    host = urlsplit(origin).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is answered as an error: the token never follows it


def http_get(
    url: str, headers: Mapping[str, str], timeout: float
) -> tuple[int, Mapping[str, str], bytes]:
    """(status, headers, body) of a GET; the body is cut at MAX_BODY."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("only http(s) URLs are looked up")
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"accept": "application/json", **headers})  # noqa: S310
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read(MAX_BODY)
    except urllib.error.HTTPError as exc:
        body = exc.read(MAX_BODY) if exc.fp is not None else b""
        return exc.code, dict(exc.headers.items()) if exc.headers else {}, body


Getter = Callable[[str, Mapping[str, str], float], tuple[int, Mapping[str, str], bytes]]


def interpret(ref: TicketRef, data: Any) -> Status:
    """The status in a tracker's documented answer."""
    if ref.tracker == "jira":
        fields = data.get("fields") or {}
        category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
        done = category == "done" or fields.get("resolution") is not None
        return Status(CLOSED if done else OPEN, fields.get("summary"))
    if ref.tracker == "github":
        return Status(CLOSED if data.get("state") == "closed" else OPEN, data.get("title"))
    if ref.tracker == "gitlab":
        state = data.get("state")
        return Status(OPEN if state == "opened" else CLOSED, data.get("title"))
    bugs = data.get("bugs") or [{}]
    bug = bugs[0]
    is_open = bug.get("is_open")
    if is_open is None:
        is_open = not bug.get("resolution")
    return Status(OPEN if is_open else CLOSED, bug.get("summary"))


def _retry_after(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait before asking again, when the answer is a rate limit; else None."""
    low = {k.lower(): v for k, v in headers.items()}
    if "retry-after" in low and status in (403, 429, 503):
        text = low["retry-after"].strip()
        return float(text) if text.isdigit() else MAX_WAIT + 1
    if status in (403, 429) and low.get("x-ratelimit-remaining") == "0":
        reset = low.get("x-ratelimit-reset", "")
        return max(0.0, float(reset) - now) if reset.isdigit() else MAX_WAIT + 1
    return None


class Lookup:
    """Looks tickets up; `statuses(refs)` answers every ref, each asked at most once."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        cache: Any = None,
        timeout: float = 10.0,
        concurrency: int = 8,
        get: Getter = http_get,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.credentials = credentials
        self.cache = cache
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.get = get
        self.sleep = sleep
        self.max_wait = max_wait
        self.requests = 0
        self._blocked: dict[str, str] = {}  # origin -> why (rate limited beyond max_wait)
        self._lock = threading.Lock()

    def statuses(self, refs: Iterable[TicketRef]) -> dict[str, Status]:
        wanted = {ref.key: ref for ref in refs}
        result: dict[str, Status] = {}
        todo = []
        for key, ref in sorted(wanted.items()):
            cached = self.cache.get(key) if self.cache is not None else None
            if cached is not None:
                result[key] = cached
            else:
                todo.append(ref)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for ref, status in zip(todo, pool.map(self.one, todo), strict=True):
                result[ref.key] = status
                if self.cache is not None and status.status != UNKNOWN:
                    self.cache.put(ref.key, status)
        return result

    def one(self, ref: TicketRef) -> Status:
        for _ in range(3):
            with self._lock:
                blocked = self._blocked.get(ref.origin)
                if not blocked:
                    self.requests += 1
            if blocked:
                return Status(UNKNOWN, why=blocked)
            try:
                status, headers, body = self.get(
                    ref.api_url, self.credentials.for_ref(ref), self.timeout
                )
            except (OSError, ValueError) as exc:
                return Status(UNKNOWN, why=f"{ref.origin}: {type(exc).__name__}")
            wait = _retry_after(status, headers, time.time())
            if wait is not None:
                if wait > self.max_wait:
                    with self._lock:
                        self._blocked[ref.origin] = f"{ref.origin}: rate limited"
                    continue
                self.sleep(wait)
                continue
            if status != 200:
                return Status(UNKNOWN, why=f"{ref.origin}: HTTP {status}")
            try:
                return interpret(ref, json.loads(body))
            except (ValueError, AttributeError, IndexError, TypeError):
                return Status(UNKNOWN, why=f"{ref.origin}: not the answer the API documents")
        return Status(UNKNOWN, why=f"{ref.origin}: rate limited")
