"""Shared helpers for the db tests: hand-built snapshots and row counts."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import psycopg2

from xfail_grabber.model import DynamicSite, MutedTest, ScanError, Snapshot

ADMIN_URL = os.environ.get("GRABBER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DIALECTS = ("sqlite", "postgresql", "redshift")


def admin_connection(dbname: str | None = None) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(
        ADMIN_URL if dbname is None else ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname,
        connect_timeout=10,
    )
    conn.autocommit = True
    return conn


def url_for(kind: str, pg_base: str, tmp_path: object, schema: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/snapshots.db"
    if kind == "postgresql":
        return f"{pg_base}?schema={schema}"
    # The Redshift dialect, run for real against PostgreSQL.
    return pg_base.replace("postgresql://", "redshift://", 1) + f"?sslmode=disable&schema={schema}"


def record(i: int = 0, **changes: object) -> MutedTest:
    values: dict[str, object] = dict(
        nodeid=f"tests/test_a.py::test_{i}",
        mark_line=10 + i,
        kind="xfailflake",
        marker="xfailflake",
        path="tests/test_a.py",
        test=f"test_{i}",
        line=11 + i,
        scope="function",
        category="muted",
        ticket="DCOS-123",
        reason="flaky on CI",
        since="2019-01-15",
        strict=None,
        condition=None,
        kwargs=(("jira", "DCOS-123"),),
        parser="libcst",
    )
    values.update(changes)
    return MutedTest(**values)  # type: ignore[arg-type]


def snapshot(
    n: int = 3,
    *,
    repo: str = "https://github.com/org/repo",
    branch: str | None = "main",
    commit: str | None = "a" * 40,
    scanned_at: datetime | None = None,
    records: tuple[MutedTest, ...] | None = None,
    errors: tuple[ScanError, ...] = (),
    dynamic: tuple[DynamicSite, ...] = (),
) -> Snapshot:
    return Snapshot(
        repo=repo,
        branch=branch,
        commit=commit,
        committed_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        scanned_at=scanned_at or datetime(2026, 11, 22, 4, 0, 0, tzinfo=UTC),
        markers=("xfailflake", "quarantined"),
        muted=records if records is not None else tuple(record(i) for i in range(n)),
        errors=errors,
        files_scanned=7,
        dynamic=dynamic,
    )


def count_rows(url: str, table: str) -> int:
    """Rows in one of our tables, read without the library (for half-written checks)."""
    from xfail_grabber.sinks.db.connection import connect

    with connect(url) as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {db.names.table(table)}")[0][0])
