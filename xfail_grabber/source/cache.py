"""The scan cache's storage: opaque keys to opaque bytes, in one SQLite file.

The scanner builds the keys (blob id + scanner version + settings fingerprint) and the values
(its serialised per-file results); this module only stores them. Several processes may share
the file at once: WAL journal, a busy timeout, and writes in short transactions. A file that
is not a usable SQLite database is moved aside and a new one started (a cache, not a record).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..lru import ByteLRU
from .clones import default_cache_dir

log = logging.getLogger("xfail_grabber.cache")

FILE_NAME = "scan-cache.sqlite3"
_CHUNK = 500  # SQLite's variable limit is at least 999
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS scan"
    " (key TEXT PRIMARY KEY, value BLOB NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID"
)


class ScanCache:
    """get_many / put_many over one SQLite connection (one per process and thread).

    Values read or written are also kept in memory, the most recently used up to MEMO_BYTES,
    so scanning many commits in one process (`grabber history`) reads an entry from the file
    once while memory stays bounded however long the history.
    """

    MEMO_BYTES = 16 * 1024 * 1024

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._memo: ByteLRU[bytes] = ByteLRU(self.MEMO_BYTES)
        if path is not None:
            self._db = _connect(path)

    def _remember(self, items: dict[str, bytes]) -> None:
        for key, value in items.items():
            self._memo.put(key, value, len(value))

    def get_many(self, keys: list[str]) -> dict[str, bytes]:
        if self._db is None or not keys:
            return {}
        found = {}
        for key in keys:
            if key in self._memo:
                found[key] = self._memo[key]
        wanted = [key for key in keys if key not in found] if found else keys
        read: dict[str, bytes] = {}
        try:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, value FROM scan WHERE key IN ({marks})",  # noqa: S608
                    chunk,
                )
                read.update(rows)  # BLOB columns come back as bytes
        except sqlite3.Error as exc:
            log.warning("scan cache unreadable (%s); scanning without it", exc)
            return found
        self._remember(read)
        found.update(read)
        return found

    def put_many(self, items: dict[str, bytes]) -> None:
        if self._db is None or not items:
            return
        self._remember(items)
        now = int(time.time())
        rows = [(key, sqlite3.Binary(value), now) for key, value in items.items()]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO scan VALUES (?, ?, ?)", rows)
        except sqlite3.Error as exc:
            log.warning("cannot write the scan cache (%s)", exc)

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT count(*) FROM scan").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in (1, 2):
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(_SCHEMA)
            db.execute("SELECT count(*) FROM scan LIMIT 1").fetchone()
            db.isolation_level = "DEFERRED"
            return db
        except sqlite3.DatabaseError as exc:
            db.close()
            if attempt == 2 or (isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)):
                raise
            log.warning("the scan cache %s is damaged (%s); starting a new one", path, exc)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    raise AssertionError("unreachable")


@contextmanager
def open_scan_cache(cache_dir: Path | None) -> Iterator[ScanCache]:
    """The scan cache under `cache_dir` (default: the user cache directory).

    When the file cannot be opened at all the scan still runs, uncached, with a warning.
    """
    path = (cache_dir or default_cache_dir()) / FILE_NAME
    try:
        cache = ScanCache(path)
    except (OSError, sqlite3.Error) as exc:
        log.warning("cannot open the scan cache %s (%s); scanning without it", path, exc)
        cache = ScanCache(None)
    try:
        yield cache
    finally:
        cache.close()
