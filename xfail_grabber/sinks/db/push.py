"""Writing: store a snapshot (one transaction, one per key), prune, import the old table."""

# ruff: noqa: S608 - table names come only from Names.table (quote_ident); values are bound.

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ...model import MutedTest, Snapshot, parse_iso, utc_now
from .connection import Db, connect, in_transaction
from .dialect import quote_ident
from .errors import DatabaseError
from .schema import (
    DYNAMIC,
    DYNAMIC_COLUMNS,
    ERROR_COLUMNS,
    ERRORS,
    LEGACY_VIEW,
    MUTED,
    MUTED_COLUMNS,
    SNAPSHOT_COLUMNS,
    SNAPSHOT_TABLES,
    SNAPSHOTS,
    TICKET_COLUMNS,
    TICKETS,
    Column,
    ensure_schema,
    relation_kind,
)
from .values import (
    columns_sql,
    day_of,
    dynamic_rows,
    error_rows,
    key_values,
    muted_rows,
    snapshot_row,
    ticket_rows,
)


def insert_rows(
    db: Db, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]
) -> None:
    if not rows:
        return
    target = db.names.table(table)
    if db.dialect.use_copy:
        db.copy(target, [f'"{c[0]}"' for c in columns], rows)
    elif db.dialect.name == "redshift":
        db.insert_values(f"INSERT INTO {target} ({columns_sql(columns)})", rows)
    else:
        marks = ", ".join("?" * len(columns))
        db.executemany(f"INSERT INTO {target} ({columns_sql(columns)}) VALUES ({marks})", rows)


def _replace(db: Db, snapshot: Snapshot) -> None:
    """Within the caller's transaction: drop the snapshot with the same key, add this one."""
    snapshots = db.names.table(SNAPSHOTS)
    lock = db.dialect.lock(snapshots)
    if lock:
        db.execute(lock)  # racing pushes of one key queue here; the last one wins whole
    key = key_values(db, snapshot)
    match = (
        f'SELECT "snapshot_id" FROM {snapshots} WHERE "repo" = ? AND "branch" = ? '
        'AND "commit" = ? AND "day" = ?'
    )
    for table in SNAPSHOT_TABLES:
        db.execute(f'DELETE FROM {db.names.table(table)} WHERE "snapshot_id" IN ({match})', key)
    db.execute(
        f'DELETE FROM {snapshots} WHERE "repo" = ? AND "branch" = ? AND "commit" = ? AND "day" = ?',
        key,
    )
    snapshot_id = uuid.uuid4().hex
    insert_rows(db, SNAPSHOTS, SNAPSHOT_COLUMNS, [snapshot_row(db, snapshot_id, snapshot)])
    insert_rows(db, MUTED, MUTED_COLUMNS, muted_rows(db, snapshot_id, snapshot.muted))
    insert_rows(db, ERRORS, ERROR_COLUMNS, error_rows(db, snapshot_id, snapshot.errors))
    insert_rows(db, DYNAMIC, DYNAMIC_COLUMNS, dynamic_rows(db, snapshot_id, snapshot.dynamic))
    _replace_tickets(db, ticket_rows(db, snapshot))


def _replace_tickets(db: Db, rows: list[list[Any]]) -> None:
    """The tickets looked up by this push replace their earlier rows (same repo, ticket)."""
    if not rows:
        return
    table = db.names.table(TICKETS)
    for row in rows:
        db.execute(f'DELETE FROM {table} WHERE "repo" = ? AND "ticket" = ?', (row[0], row[1]))
    insert_rows(db, TICKETS, TICKET_COLUMNS, rows)


def store_snapshot(url: str, snapshot: Snapshot) -> None:
    """Store `snapshot` in one transaction, replacing the one with the same
    (repo, branch, commit, UTC day of scanned_at). Creates or migrates the tables first."""
    store_snapshots(url, [snapshot])


def store_snapshots(url: str, snapshots: Sequence[Snapshot]) -> None:
    """Store several snapshots, each in its own transaction, over one connection."""
    with connect(url) as db:
        ensure_schema(db)
        for snapshot in snapshots:
            in_transaction(db, lambda d, s=snapshot: _replace(d, s))  # type: ignore[misc]


DURATION = re.compile(r"^\s*(\d+)\s*([dwy]?)\s*$")
MAX_KEEP_DAYS = 1000 * 365


def parse_duration(text: str) -> timedelta:
    """`400d`, `8w`, `2y` (365 days each) or a bare number of days."""
    match = DURATION.match(text.lower())
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 400d, 8w or 2y)")
    number, unit = int(match.group(1)), match.group(2) or "d"
    days = number * {"d": 1, "w": 7, "y": 365}[unit]
    if days > MAX_KEEP_DAYS:
        # Beyond this the cut-off date would fall before year 1 (an OverflowError).
        raise ValueError(f"{text!r} is more than {MAX_KEEP_DAYS // 365} years")
    return timedelta(days=days)


def prune(url: str, keep: timedelta, now: datetime | None = None) -> int:
    """Delete snapshots of days older than `keep` (by UTC day scanned); return how many."""
    cutoff = (now or utc_now()) - keep
    with connect(url) as db:
        ensure_schema(db)
        day = day_of(db, cutoff)
        snapshots = db.names.table(SNAPSHOTS)

        def work(d: Db) -> int:
            lock = d.dialect.lock(snapshots)
            if lock:
                d.execute(lock)
            count = int(
                d.execute(f'SELECT COUNT(*) FROM {snapshots} WHERE "day" < ?', (day,))[0][0]
            )
            old = f'SELECT "snapshot_id" FROM {snapshots} WHERE "day" < ?'
            for table in SNAPSHOT_TABLES:
                d.execute(
                    f'DELETE FROM {d.names.table(table)} WHERE "snapshot_id" IN ({old})', (day,)
                )
            d.execute(f'DELETE FROM {snapshots} WHERE "day" < ?', (day,))
            return count

        return in_transaction(db, work)


LEGACY_COLUMNS = ("test", "ticket", "file", "repo", "branch", "timestamp", "since")


def _legacy_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_iso(str(value).replace(" ", "T"))


def _legacy_since(value: Any) -> str | None:
    moment = _legacy_time(value)
    if moment is None:
        return None
    return (
        moment.date().isoformat()
        if moment.time() == datetime.min.time()
        else (moment.isoformat().replace("+00:00", "Z"))
    )


def legacy_snapshots(rows: Sequence[Sequence[Any]]) -> list[Snapshot]:
    """Rows of the original table as snapshots: one per (repo, branch, UTC day), the day's rows
    without the duplicates the old tool inserted on every run. The commit is unknown ('')."""
    days: dict[tuple[str, str, str], dict[tuple[Any, ...], MutedTest]] = {}
    last: dict[tuple[str, str, str], datetime] = {}
    for test, ticket, file, repo, branch, timestamp, since in rows:
        moment = _legacy_time(timestamp)
        if moment is None or not repo:
            continue
        key = (str(repo), str(branch or ""), moment.date().isoformat())
        last[key] = max(last.get(key, moment), moment)
        test, file = str(test or ""), str(file or "")
        record = MutedTest(
            nodeid=f"{file}::{test}",
            mark_line=0,
            kind="xfailflake",
            marker="xfailflake",
            path=file,
            test=test,
            line=0,
            scope="function",
            category="muted",
            ticket=ticket or None,
            since=_legacy_since(since),
            parser="legacy",
        )
        days.setdefault(key, {})[(file, test, record.ticket, record.since)] = record
    return [
        Snapshot(
            repo=repo,
            branch=branch or None,
            commit=None,
            committed_at=None,
            scanned_at=last[(repo, branch, day)],
            markers=("xfailflake",),
            muted=tuple(sorted(records.values(), key=MutedTest.sort_key)),
            tool_version="legacy",
        )
        for (repo, branch, day), records in sorted(days.items())
    ]


def import_legacy(url: str, source_table: str) -> int:
    """Import the rows of the original `dashboards.xfailflake_history_v1`-shaped table (in the
    same database) as snapshots; importing again replaces, never duplicates. Returns the
    number of snapshots stored."""
    parts = source_table.split(".")
    if not 1 <= len(parts) <= 2:
        raise DatabaseError(f"not a table name: {source_table!r} (use SCHEMA.TABLE)")
    source = ".".join(quote_ident(p) for p in parts)
    with connect(url) as db:
        ours = source == db.names.table(LEGACY_VIEW) or (
            len(parts) == 1 and parts[0] == db.names.bare(LEGACY_VIEW)
        )
        if ours and relation_kind(db, LEGACY_VIEW) == "view":
            raise DatabaseError(
                f"{source_table} is grabber's own compatibility view, not the original table"
            )
        cols = ", ".join(f'"{c}"' for c in LEGACY_COLUMNS)
        rows = db.execute(f"SELECT {cols} FROM {source}")
    snapshots = legacy_snapshots(rows)
    store_snapshots(url, snapshots)
    return len(snapshots)
