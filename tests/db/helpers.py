"""Shared helpers for the db tests: hand-built snapshots, rows as old versions wrote them,
row counts, and fixture projects pushed and read back."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import psycopg2

from xfail_grabber.cli import main
from xfail_grabber.model import DynamicSite, MutedTest, ScanError, Snapshot
from xfail_grabber.sinks.db import latest_snapshot
from xfail_grabber.sinks.db.connection import Db, connect
from xfail_grabber.sinks.db.schema import MUTED, SNAPSHOTS
from xfail_grabber.sinks.db.schema import upgrade as upgrade_db

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
    with connect(url) as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {db.names.table(table)}")[0][0])


def rows_at_version_1(db: Db) -> None:
    """What grabber wrote at schema version 1: a snapshot and two records, by hand."""
    stamp = (
        "2026-11-20T04:00:00.000000Z"
        if db.dialect.name == "sqlite"
        else datetime(2026, 11, 20, 4, tzinfo=UTC)
    )
    day = "2026-11-20" if db.dialect.name == "sqlite" else stamp.date()  # type: ignore[union-attr]
    db.execute(
        f'INSERT INTO {db.names.table(SNAPSHOTS)} ("snapshot_id", "repo", "branch", '
        '"commit", "day", "scanned_at", "tool_name", "tool_version", "schema_version", '
        '"markers", "total", "tests", "files", "files_scanned", "errors", "by_kind", '
        '"by_category") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        (
            "old1",
            "r",
            "main",
            "c1",
            day,
            stamp,
            "xfail-grabber",
            "0.0.9",
            1,
            '["xfailflake"]',
            2,
            2,
            1,
            4,
            0,
            '{"skip":1,"xfailflake":1}',
            '{"muted":2}',
        ),
    )
    for position, kind in enumerate(("xfailflake", "skip")):
        db.execute(
            f'INSERT INTO {db.names.table(MUTED)} ("snapshot_id", "position", "nodeid", '
            '"path", "test", "line", "mark_line", "kind", "marker", "scope", "category", '
            '"ticket", "since") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            (
                "old1",
                position,
                f"a.py::t{position}",
                "a.py",
                f"t{position}",
                3,
                2,
                kind,
                kind,
                "function",
                "muted",
                "DCOS-9",
                "2019-01-15",
            ),
        )


def database_at(url: str, version: int) -> None:
    """A database at schema `version` holding what version 1 wrote (nothing at version 0),
    for the tests that migrate from every earlier version."""
    with connect(url) as db:
        upgrade_db(db, target=version)
        if version:
            rows_at_version_1(db)


def latest_rows(url: str, repo: str, columns: tuple[str, ...]) -> list[tuple[object, ...]]:
    """These columns of the latest_muted_tests view for `repo`, by nodeid."""
    names = ", ".join(f'"{c}"' for c in columns)
    with connect(url) as db:
        view = db.execute(
            f"SELECT {names} FROM {db.names.table('latest_muted_tests')} "
            'WHERE "repo" = ? ORDER BY "nodeid"',
            (repo,),
        )
    return [tuple(r) for r in view]


def pushed_fixture(url: str, name: str, tmp_path: Path) -> tuple[Snapshot, Snapshot]:
    """tests/fixtures/NAME dumped and pushed: (the snapshot dumped, the one read back)."""
    project = str(Path(__file__).resolve().parents[1] / "fixtures" / name)
    cache = str(tmp_path / "cache")
    out = tmp_path / f"{name}.json"
    assert main(["dump", project, "--cache-dir", cache, "-o", str(out)]) == 0
    assert main(["push", project, "--db", url, "--cache-dir", cache]) == 0
    dumped = Snapshot.from_dict(json.loads(out.read_text()))
    stored = latest_snapshot(url, dumped.repo)
    assert stored is not None
    return dumped, stored
