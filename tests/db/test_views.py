"""The dashboard views (latest_muted_tests, muted_trend_daily), run for real on SQLite,
PostgreSQL and the Redshift dialect (on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from xfail_grabber.sinks.db import store_snapshot
from xfail_grabber.sinks.db.connection import connect

from .helpers import record, snapshot


def at(day: int, hour: int = 4) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def store_history(url: str) -> None:
    """main: 3 records on the 20th, then 2 and (later that day) 4 on the 21st, 0 on the 22nd;
    rel: 1 record on the 21st."""
    store_snapshot(url, snapshot(3, commit="1" * 40, scanned_at=at(20)))
    store_snapshot(url, snapshot(2, commit="2" * 40, scanned_at=at(21)))
    mixed = (*(record(i) for i in range(3)), record(9, kind="skip", category="conditional"))
    store_snapshot(url, snapshot(commit="3" * 40, scanned_at=at(21, 18), records=mixed))
    store_snapshot(url, snapshot(0, commit="4" * 40, scanned_at=at(22)))
    store_snapshot(url, snapshot(1, branch="rel", commit="5" * 40, scanned_at=at(21)))


def query(url: str, view: str, columns: str, order: str) -> list[tuple[object, ...]]:
    with connect(url) as db:
        sql = f"SELECT {columns} FROM {db.names.table(view)} ORDER BY {order}"
        return [tuple(r) for r in db.execute(sql)]


def test_latest_muted_tests_holds_the_newest_snapshot_per_repo_and_branch(db_url: str) -> None:
    store_history(db_url)
    store_snapshot(db_url, snapshot(2, commit="6" * 40, scanned_at=at(23)))
    found = query(
        db_url,
        "latest_muted_tests",
        '"branch", "commit", "nodeid", "kind", "ticket", "line"',
        '"branch", "nodeid"',
    )
    assert found == [
        ("main", "6" * 40, "tests/test_a.py::test_0", "xfailflake", "DCOS-123", 11),
        ("main", "6" * 40, "tests/test_a.py::test_1", "xfailflake", "DCOS-123", 12),
        ("rel", "5" * 40, "tests/test_a.py::test_0", "xfailflake", "DCOS-123", 11),
    ]


def test_muted_trend_daily_counts_the_last_snapshot_of_each_day(db_url: str) -> None:
    store_history(db_url)
    found = [
        (str(day)[:10], branch, kind, category, int(muted))  # type: ignore[call-overload]
        for branch, day, kind, category, muted in query(
            db_url,
            "muted_trend_daily",
            '"branch", "day", "kind", "category", "muted"',
            '"branch", "day", "kind"',
        )
    ]
    assert found == [
        ("2026-11-20", "main", "xfailflake", "muted", 3),
        # The 21st: the 18:00 snapshot wins over the 04:00 one.
        ("2026-11-21", "main", "skip", "conditional", 1),
        ("2026-11-21", "main", "xfailflake", "muted", 3),
        # A day with nothing muted is still a point, at zero.
        ("2026-11-22", "main", None, None, 0),
        ("2026-11-21", "rel", "xfailflake", "muted", 1),
    ]
