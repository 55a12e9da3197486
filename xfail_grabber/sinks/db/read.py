"""Reading: the keys stored, the latest snapshot, the daily trend (for history and serve)."""

# ruff: noqa: S608 - table names come only from Names.table (quote_ident); values are bound.

from __future__ import annotations

from datetime import date
from typing import Any

from ...model import DynamicSite, ScanError, Snapshot
from .connection import Db, connect
from .schema import (
    DYNAMIC,
    DYNAMIC_COLUMNS,
    ERROR_COLUMNS,
    ERRORS,
    MUTED,
    SNAPSHOTS,
    Column,
    check_not_newer,
    current_version,
    muted_columns,
)
from .values import columns_sql, load_json, read_day, read_ts, record_from, text

SUMMARY = (
    '"snapshot_id", "repo", "branch", "commit", "day", "scanned_at", "committed_at", '
    '"tool_version", "markers", "files_scanned", "total", "by_kind", "by_category"'
)


def _ready(db: Db) -> int:
    version = current_version(db)
    check_not_newer(db, version)
    return version


def _where(db: Db, repo: str | None, branch: str | None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if repo is not None:
        clauses.append('"repo" = ?')
        params.append(text(db, "repo", repo))
    if branch is not None:
        clauses.append('"branch" = ?')
        params.append(text(db, "branch", branch))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def stored_keys(url: str, repo: str, branch: str) -> set[tuple[str, str]]:
    """(commit, ISO day) of every snapshot stored for repo and branch."""
    with connect(url) as db:
        if not _ready(db):
            return set()
        where, params = _where(db, repo, branch)
        rows = db.execute(f'SELECT "commit", "day" FROM {db.names.table(SNAPSHOTS)}{where}', params)
        return {(commit, read_day(day)) for commit, day in rows}


def latest_snapshot(
    url: str, repo: str | None = None, branch: str | None = None
) -> Snapshot | None:
    """The most recently scanned snapshot (of repo and branch when given), or None."""
    return _last_snapshot(url, repo, branch, None)


def snapshot_on(url: str, repo: str, branch: str | None, day: str) -> Snapshot | None:
    """The last snapshot of repo and branch scanned on `day` (YYYY-MM-DD), or None."""
    return _last_snapshot(url, repo, branch or "", day)


def targets(url: str) -> list[dict[str, Any]]:
    """Every stored (repo, branch): how many days it has and its first and last day."""
    with connect(url) as db:
        if not _ready(db):
            return []
        rows = db.execute(
            'SELECT "repo", "branch", COUNT(DISTINCT "day"), MIN("day"), MAX("day") '
            f'FROM {db.names.table(SNAPSHOTS)} GROUP BY "repo", "branch" '
            'ORDER BY "repo", "branch"'
        )
    return [
        {
            "repo": repo,
            "branch": branch or None,
            "days": int(days),
            "first_day": read_day(first),
            "last_day": read_day(last),
        }
        for repo, branch, days, first, last in rows
    ]


def _last_snapshot(
    url: str, repo: str | None, branch: str | None, day: str | None
) -> Snapshot | None:
    with connect(url) as db:
        version = _ready(db)
        if not version:
            return None
        where, params = _where(db, repo, branch)
        if day is not None:
            where += (" AND " if where else " WHERE ") + '"day" = ?'
            params.append(day if db.dialect.name == "sqlite" else date.fromisoformat(day))
        rows = db.execute(
            f"SELECT {SUMMARY} FROM {db.names.table(SNAPSHOTS)}{where} "
            'ORDER BY "scanned_at" DESC, "snapshot_id" DESC LIMIT 1',
            params,
        )
        if not rows:
            return None
        (
            snapshot_id,
            repo_,
            branch_,
            commit,
            _day,
            scanned_at,
            committed_at,
            tool_version,
            markers,
            files_scanned,
            _total,
            _by_kind,
            _by_category,
        ) = rows[0]
        muted = _rows(db, MUTED, muted_columns(version), snapshot_id)
        # Tables a database not migrated yet (a read-only user's, say) may lack.
        errors = _rows(db, ERRORS, ERROR_COLUMNS, snapshot_id) if version >= 3 else []
        dynamic = _rows(db, DYNAMIC, DYNAMIC_COLUMNS, snapshot_id) if version >= 7 else []
    scanned = read_ts(scanned_at)
    assert scanned is not None
    return Snapshot(
        repo=repo_,
        branch=branch_ or None,
        commit=commit or None,
        committed_at=read_ts(committed_at),
        scanned_at=scanned,
        markers=tuple(load_json(markers, [])),
        muted=tuple(record_from(row) for row in muted),
        errors=tuple(ScanError(path, error) for path, error in errors),
        files_scanned=int(files_scanned or 0),
        tool_version=tool_version,
        dynamic=tuple(
            DynamicSite(path, int(line or 0), marker or "", hook or "")
            for path, line, marker, hook in dynamic
        ),
    )


def _rows(db: Db, table: str, columns: tuple[Column, ...], snapshot_id: str) -> list[Any]:
    """A snapshot's rows of one of its tables, in order, without snapshot_id and position."""
    return db.execute(
        f"SELECT {columns_sql(columns[2:])} FROM {db.names.table(table)} "
        'WHERE "snapshot_id" = ? ORDER BY "position"',
        (snapshot_id,),
    )


def trend(url: str, repo: str | None = None, branch: str | None = None) -> list[dict[str, Any]]:
    """One point per (day, repo, branch), from the last snapshot of that day, sorted by day."""
    with connect(url) as db:
        if not _ready(db):
            return []
        where, params = _where(db, repo, branch)
        rows = db.execute(
            f'SELECT "day", "repo", "branch", "scanned_at", "total", "by_kind", '
            f'"by_category" FROM {db.names.table(SNAPSHOTS)}{where}',
            params,
        )
    last: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for day, repo_, branch_, scanned_at, total, by_kind, by_category in rows:
        key = (read_day(day), repo_, branch_)
        moment = read_ts(scanned_at)
        if key not in last or last[key][0] < moment:
            last[key] = (moment, total, by_kind, by_category)
    return [
        {
            "day": day,
            "repo": repo_,
            "branch": branch_ or None,
            "total": int(total or 0),
            "by_kind": load_json(by_kind, {}),
            "by_category": load_json(by_category, {}),
        }
        for (day, repo_, branch_), (_, total, by_kind, by_category) in sorted(last.items())
    ]
