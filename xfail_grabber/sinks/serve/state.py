"""The data the server holds, and the background thread that refreshes it.

Requests read `DataState.view` (one attribute read, swapped whole when a refresh lands) and never
wait for a scan. A failed refresh keeps the last good view and is reported in the status.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ...model import Snapshot
from .view import View

log = logging.getLogger("xfail_grabber.serve")

# Returns the current snapshot (None: nothing to show yet, e.g. an empty database).
SnapshotProvider = Callable[[], Snapshot | None]
# Counts per day for the snapshot's repository and branch:
# [{"day", "repo", "branch", "total", "by_kind", "by_category"}].
TrendProvider = Callable[[Snapshot], Sequence[Mapping[str, Any]]]

MAX_ERROR_LENGTH = 500
MEMORY_TREND_DAYS = 400


@dataclass(frozen=True)
class Status:
    """What /healthz and /metrics tell about the refreshes."""

    refreshing: bool = False
    attempts: int = 0
    failures: int = 0
    last_attempt_at: float | None = None  # wall clock, seconds since the epoch
    last_success_at: float | None = None
    last_duration: float | None = None
    last_error: str | None = None  # None when the last attempt succeeded


class MemoryTrend:
    """Counts per day of the snapshots this process has taken (the trend without a database,
    and the newest points on top of a database's)."""

    def __init__(self) -> None:
        self._days: dict[tuple[str, str | None, str], dict[str, Any]] = {}

    def add(self, snapshot: Snapshot) -> None:
        counts = snapshot.counts()
        day = snapshot.scanned_at.date().isoformat()
        self._days[(snapshot.repo, snapshot.branch, day)] = {
            "day": day,
            "repo": snapshot.repo,
            "branch": snapshot.branch,
            "total": counts["total"],
            "by_kind": counts["by_kind"],
            "by_category": counts["by_category"],
        }
        for key in sorted(self._days, key=lambda k: k[2])[:-MEMORY_TREND_DAYS]:
            del self._days[key]

    def __call__(self, snapshot: Snapshot) -> list[dict[str, Any]]:
        keys = [k for k in self._days if k[:2] == (snapshot.repo, snapshot.branch)]
        return [self._days[k] for k in sorted(keys, key=lambda k: k[2])]


class DataState:
    """The last good view plus the refresh status; refreshed by `refresh()` from any thread."""

    def __init__(self, snapshots: SnapshotProvider, trend: TrendProvider | None = None) -> None:
        self._snapshots = snapshots
        self._stored_trend = trend
        self._memory_trend = MemoryTrend()
        self._lock = threading.Lock()  # one refresh at a time
        self.view: View | None = None
        self.status = Status()

    def refresh(self) -> bool:
        """Take a new snapshot and swap it in; on failure keep the old one. True if it worked."""
        with self._lock:
            started = time.time()
            clock = time.monotonic()
            self.status = replace(
                self.status,
                refreshing=True,
                last_attempt_at=started,
                attempts=self.status.attempts + 1,
            )
            try:
                snapshot = self._snapshots()
                if snapshot is None:
                    raise LookupError("no snapshot stored yet for this repository and branch")
                self._memory_trend.add(snapshot)
                view = View.build(snapshot, self._trend(snapshot))
            except Exception as exc:  # any failure keeps the last good data
                message = _one_line(exc)
                log.warning("refresh failed: %s", message)
                self.status = replace(
                    self.status,
                    refreshing=False,
                    failures=self.status.failures + 1,
                    last_error=message,
                    last_duration=time.monotonic() - clock,
                )
                return False
            self.view = view
            self.status = replace(
                self.status,
                refreshing=False,
                last_success_at=time.time(),
                last_error=None,
                last_duration=time.monotonic() - clock,
            )
            log.info("snapshot refreshed: %d muted tests", len(snapshot.muted))
            return True

    def _trend(self, snapshot: Snapshot) -> list[Mapping[str, Any]]:
        """Stored days, with the days this process scanned itself taking precedence."""
        days: dict[tuple[str, str, str], Mapping[str, Any]] = {}
        stored = self._stored_trend(snapshot) if self._stored_trend is not None else []
        for point in [*stored, *self._memory_trend(snapshot)]:
            days[(str(point["day"]), str(point["repo"]), str(point["branch"] or ""))] = point
        return [days[key] for key in sorted(days)]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, (LookupError, OSError)) and type(exc).__name__ not in text:
        text = f"{type(exc).__name__}: {text}"
    return text[:MAX_ERROR_LENGTH]


class Refresher:
    """A daemon thread: refresh now, then every `interval` seconds or when `wake()` is called."""

    def __init__(self, state: DataState, interval: float | None) -> None:
        self.state = state
        self.interval = interval  # None or 0: only on wake()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grabber-refresh", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self.state.refresh()
            self._wake.wait(self.interval or None)
