"""Python values <-> column values, per dialect (SQLite keeps times and days as ISO text)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any

from ...model import DynamicSite, FirstSeen, MutedTest, ScanError, Snapshot
from .connection import Db
from .dialect import clean_text
from .schema import ERROR_COLUMNS, LIMITS, MUTED_COLUMNS, SNAPSHOT_COLUMNS, Column, q


def ts(db: Db, moment: datetime | None) -> Any:
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    if db.dialect.name == "sqlite":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment


def day_of(db: Db, moment: datetime) -> Any:
    day = moment.astimezone(UTC).date()
    return day.isoformat() if db.dialect.name == "sqlite" else day


def read_ts(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert isinstance(value, datetime)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def read_day(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return str(value)[:10]


def text(db: Db, column: str, value: str | None) -> str | None:
    return db.dialect.text(value, LIMITS[column])


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def key_values(db: Db, snapshot: Snapshot) -> tuple[Any, ...]:
    """(repo, branch, commit, day): the identity of a stored snapshot. No branch/commit: ''."""
    return (
        text(db, "repo", snapshot.repo),
        text(db, "branch", snapshot.branch or ""),
        text(db, "commit", snapshot.commit or ""),
        day_of(db, snapshot.scanned_at),
    )


def snapshot_row(db: Db, snapshot_id: str, snapshot: Snapshot) -> list[Any]:
    counts = snapshot.counts()
    repo, branch, commit, day = key_values(db, snapshot)
    from ...model import SCHEMA_VERSION, TOOL_NAME

    return [
        snapshot_id,
        repo,
        branch,
        commit,
        day,
        ts(db, snapshot.scanned_at),
        ts(db, snapshot.committed_at),
        TOOL_NAME,
        text(db, "tool_version", snapshot.tool_version),
        SCHEMA_VERSION,
        text(db, "markers", to_json(list(snapshot.markers))),
        counts["total"],
        counts["tests"],
        counts["files"],
        counts["files_scanned"],
        counts["errors"],
        text(db, "by_kind", to_json(counts["by_kind"])),
        text(db, "by_category", to_json(counts["by_category"])),
    ]


def muted_rows(db: Db, snapshot_id: str, records: Sequence[MutedTest]) -> Sequence[Sequence[Any]]:
    if db.dialect.use_copy:
        return _raw_rows(snapshot_id, records)  # Db.copy cleans the whole COPY text at once
    if not db.dialect.varchar_limits:
        return _clean_rows(_raw_rows(snapshot_id, records))
    t = db.dialect.text
    rows = []
    for position, r in enumerate(records):
        rows.append(
            [
                snapshot_id,
                position,
                t(r.nodeid, LIMITS["nodeid"]),
                t(r.path, LIMITS["path"]),
                t(r.test, LIMITS["test"]),
                r.line,
                r.mark_line,
                t(r.kind, LIMITS["kind"]),
                t(r.marker, LIMITS["marker"]),
                t(r.scope, LIMITS["scope"]),
                t(r.category, LIMITS["category"]),
                t(r.ticket, LIMITS["ticket"]),
                t(r.reason, LIMITS["reason"]),
                t(r.since, LIMITS["since"]),
                r.strict,
                t(r.condition, LIMITS["condition"]),
                t(to_json(dict(r.kwargs)), LIMITS["kwargs"]) if r.kwargs else None,
                t(r.parser, LIMITS["parser"]),
                r.param_index,
                t(r.param_id, LIMITS["param_id"]),
                r.cases,
                t(r.ticket_url, LIMITS["ticket_url"]),
                r.reason_is_source,
                *_enrichment(r, t),
                t(r.mark_path, LIMITS["mark_path"]),
                t(r.def_path, LIMITS["def_path"]),
            ]
        )
    return rows


def _enrichment(r: MutedTest, t: Any = None) -> tuple[Any, ...]:
    """The migration-6 cells of a record; `t(value, limit)` cuts text for Redshift."""
    cut = t or (lambda value, _limit: value)
    seen = r.first_seen
    return (
        cut(" ".join(r.owners), LIMITS["owners"]) if r.owners else None,
        seen.commit if seen else None,
        # Text that SQLite keeps as written and COPY reads into TIMESTAMPTZ.
        seen.date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if seen else None,
        cut(seen.author, LIMITS["first_seen_author"]) if seen else None,
        r.age_days,
        r.since_mismatch,
        r.ticket_status,
        cut(r.ticket_title, LIMITS["ticket_title"]),
        r.stale,
    )


_FIELDS_4 = attrgetter("param_index", "param_id", "cases", "ticket_url", "reason_is_source")
_FIELDS = attrgetter(
    "nodeid",
    "path",
    "test",
    "line",
    "mark_line",
    "kind",
    "marker",
    "scope",
    "category",
    "ticket",
    "reason",
    "since",
    "strict",
    "condition",
)


def _raw_rows(snapshot_id: str, records: Sequence[MutedTest]) -> list[tuple[Any, ...]]:
    # The hot loop of a push: attrgetter builds the bulk of each row in C.
    return [
        (
            snapshot_id,
            position,
            *_FIELDS(r),
            to_json(dict(r.kwargs)) if r.kwargs else None,
            r.parser,
            *_FIELDS_4(r),
            *_enrichment(r),
            r.mark_path,
            r.def_path,
        )
        for position, r in enumerate(records)
    ]


def _clean_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """clean_text on every text cell, but only when one of them needs it: one pass over all
    the text first (the common case: nothing to do, at a fraction of a call per cell)."""
    cells = [v for row in rows for v in row if v.__class__ is str]
    probe = "".join(cells)
    try:
        probe.encode("utf-8")
        if "\x00" not in probe:
            return rows
    except UnicodeEncodeError:
        pass
    return [tuple(clean_text(v) if v.__class__ is str else v for v in row) for row in rows]


def ticket_rows(db: Db, snapshot: Snapshot) -> list[list[Any]]:
    """One ticket_status row per distinct ticket a lookup answered (--tickets)."""
    from .schema import TICKET_LIMITS

    found: dict[str, MutedTest] = {}
    for r in snapshot.muted:
        if r.ticket and r.ticket_status:
            found.setdefault(r.ticket, r)
    t = db.dialect.text
    return [
        [
            t(snapshot.repo, TICKET_LIMITS["repo"]),
            t(ticket, TICKET_LIMITS["ticket"]),
            t(r.ticket_url, TICKET_LIMITS["ticket_url"]),
            r.ticket_status,
            t(r.ticket_title, TICKET_LIMITS["title"]),
            ts(db, snapshot.scanned_at),
        ]
        for ticket, r in sorted(found.items())
    ]


def error_rows(db: Db, snapshot_id: str, errors: Sequence[ScanError]) -> list[list[Any]]:
    return [
        [snapshot_id, i, text(db, "path", e.path), text(db, "error", e.error)]
        for i, e in enumerate(errors)
    ]


def dynamic_rows(db: Db, snapshot_id: str, sites: Sequence[DynamicSite]) -> list[list[Any]]:
    from .schema import DYNAMIC_LIMITS

    t = db.dialect.text
    return [
        [
            snapshot_id,
            i,
            t(d.path, DYNAMIC_LIMITS["path"]),
            d.line,
            t(d.marker, DYNAMIC_LIMITS["marker"]),
            t(d.hook, DYNAMIC_LIMITS["hook"]),
        ]
        for i, d in enumerate(sites)
    ]


def columns_sql(columns: Sequence[Column], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + q(c[0]) for c in columns)


def record_from(row: Sequence[Any]) -> MutedTest:
    """A MutedTest from the muted_tests columns after snapshot_id and position (the
    columns of later migrations are absent when the database is older)."""
    row = (*row, *([None] * (len(MUTED_COLUMNS) - 2 - len(row))))
    (
        nodeid,
        path,
        test,
        line,
        mark_line,
        kind,
        marker,
        scope,
        category,
        ticket,
        reason,
        since,
        strict,
        condition,
        kwargs,
        parser,
        param_index,
        param_id,
        cases,
        ticket_url,
        reason_is_source,
        owners,
        first_seen_commit,
        first_seen_at,
        first_seen_author,
        age_days,
        since_mismatch,
        ticket_status,
        ticket_title,
        stale,
        mark_path,
        def_path,
    ) = row
    seen_at = read_ts(first_seen_at)
    first_seen = None
    if first_seen_commit and seen_at is not None:
        first_seen = FirstSeen(first_seen_commit, seen_at, first_seen_author or "")
    try:
        pairs = tuple(sorted(json.loads(kwargs).items())) if kwargs else ()
    except ValueError:  # cut by the Redshift VARCHAR limit
        pairs = ()
    return MutedTest(
        nodeid=nodeid,
        mark_line=mark_line,
        kind=kind,
        marker=marker,
        path=path,
        test=test,
        line=line,
        scope=scope,
        category=category,
        ticket=ticket,
        reason=reason,
        since=since,
        strict=None if strict is None else bool(strict),
        condition=condition,
        kwargs=pairs,
        parser=parser,
        param_index=param_index,
        param_id=param_id,
        cases=cases,
        ticket_url=ticket_url,
        reason_is_source=bool(reason_is_source),
        owners=tuple(owners.split()) if owners else (),
        first_seen=first_seen,
        age_days=age_days,
        since_mismatch=None if since_mismatch is None else bool(since_mismatch),
        ticket_status=ticket_status,
        ticket_title=ticket_title,
        stale=None if stale is None else bool(stale),
        mark_path=mark_path,
        def_path=def_path,
    )


def load_json(value: str | None, default: Any) -> Any:
    try:
        return json.loads(value) if value else default
    except ValueError:
        return default


__all__ = ["ERROR_COLUMNS", "MUTED_COLUMNS", "SNAPSHOT_COLUMNS"]
