"""Views made for dashboards (Redash, Grafana, plain SQL): the latest records per repository
and branch, and a daily trend. Both pick "the last snapshot" with ROW_NUMBER(), which SQLite
(3.25+), PostgreSQL and Redshift all run.

Views name their columns explicitly (PostgreSQL freezes `m.*` at creation anyway): a migration
that adds `muted_tests` columns recreates `latest_muted_tests` with `latest_muted_sql`.
"""

# ruff: noqa: S608 - table names come only from Names.table (quote_ident).

from __future__ import annotations

from collections.abc import Sequence

from .connection import Db

LATEST_MUTED = "latest_muted_tests"
TREND_DAILY = "muted_trend_daily"

# muted_tests columns as of the migration that created the view (never edit: add a migration).
MUTED_AT_V5 = (
    "position",
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
    "kwargs",
    "parser",
    "param_index",
    "param_id",
    "cases",
    "ticket_url",
    "reason_is_source",
)
MUTED_AT_V6 = (
    *MUTED_AT_V5,
    "owners",
    "first_seen_commit",
    "first_seen_at",
    "first_seen_author",
    "age_days",
    "since_mismatch",
    "ticket_status",
    "ticket_title",
    "stale",
)
MUTED_AT_V7 = (*MUTED_AT_V6, "mark_path")
MUTED_AT_V8 = (*MUTED_AT_V7, "def_path")


def _q(name: str) -> str:
    return '"' + name + '"'


def _last_snapshots(db: Db, partition: Sequence[str]) -> str:
    """A subquery: the snapshots table with "rn" = 1 on the last snapshot per partition."""
    from .schema import SNAPSHOTS

    by = ", ".join(_q(c) for c in partition)
    return (
        '(SELECT "snapshot_id", "repo", "branch", "commit", "day", "scanned_at", '
        f'ROW_NUMBER() OVER (PARTITION BY {by} ORDER BY "scanned_at" DESC, "snapshot_id" DESC) '
        f'AS "rn" FROM {db.names.table(SNAPSHOTS)})'
    )


def latest_muted_sql(db: Db, columns: Sequence[str]) -> list[str]:
    """(Re)create latest_muted_tests: every record of the newest snapshot per repo and branch."""
    from .schema import MUTED

    view = db.names.table(LATEST_MUTED)
    picked = ", ".join(f"m.{_q(c)} AS {_q(c)}" for c in columns)
    return [
        f"DROP VIEW IF EXISTS {view}",
        f'CREATE VIEW {view} AS SELECT s."repo" AS "repo", s."branch" AS "branch", '
        f's."commit" AS "commit", s."day" AS "day", s."scanned_at" AS "scanned_at", {picked} '
        f"FROM {_last_snapshots(db, ('repo', 'branch'))} s "
        f'JOIN {db.names.table(MUTED)} m ON m."snapshot_id" = s."snapshot_id" '
        'WHERE s."rn" = 1',
    ]


def trend_daily_sql(db: Db) -> list[str]:
    """(Re)create muted_trend_daily: per repo, branch, day, kind and category, the count in
    the last snapshot of that day. A day whose snapshot holds no records is one row with
    kind and category NULL and muted 0, so a chart shows the drop to zero."""
    from .schema import MUTED

    view = db.names.table(TREND_DAILY)
    return [
        f"DROP VIEW IF EXISTS {view}",
        f'CREATE VIEW {view} AS SELECT s."repo" AS "repo", s."branch" AS "branch", '
        's."day" AS "day", s."scanned_at" AS "scanned_at", s."commit" AS "commit", '
        'm."kind" AS "kind", m."category" AS "category", COUNT(m."snapshot_id") AS "muted" '
        f"FROM {_last_snapshots(db, ('repo', 'branch', 'day'))} s "
        f'LEFT JOIN {db.names.table(MUTED)} m ON m."snapshot_id" = s."snapshot_id" '
        'WHERE s."rn" = 1 GROUP BY s."repo", s."branch", s."day", s."scanned_at", s."commit", '
        'm."kind", m."category"',
    ]
