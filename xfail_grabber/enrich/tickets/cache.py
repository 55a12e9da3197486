"""Ticket answers kept in the cache directory for a while (status and title per ticket key;
never a token). `unknown` answers are not kept, so a tracker that was down is asked again."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from .lookup import Status

DEFAULT_TTL = 6 * 3600.0


class TicketCache:
    def __init__(self, path: Path, ttl: float = DEFAULT_TTL) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.ttl = ttl
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS tickets (key TEXT PRIMARY KEY, status TEXT NOT NULL, "
            "title TEXT, fetched_at REAL NOT NULL)"
        )
        self._db.commit()

    def get(self, key: str) -> Status | None:
        row = self._db.execute(
            "SELECT status, title, fetched_at FROM tickets WHERE key = ?", (key,)
        ).fetchone()
        if row is None or time.time() - row[2] > self.ttl:
            return None
        return Status(row[0], row[1])

    def put(self, key: str, status: Status) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO tickets (key, status, title, fetched_at) VALUES (?, ?, ?, ?)",
            (key, status.status, status.title, time.time()),
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()
