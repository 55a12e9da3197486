"""Owners, blame and ticket status stored and read back on SQLite, PostgreSQL and the Redshift
dialect; the ticket_status table dashboards join on; the latest_muted_tests view."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from xfail_grabber.model import FirstSeen
from xfail_grabber.sinks.db import latest_snapshot, store_snapshot
from xfail_grabber.sinks.db.connection import connect

from .helpers import record, snapshot

SEEN = FirstSeen("c" * 40, datetime(2025, 2, 1, 9, 0, tzinfo=UTC), "Ada Lovelace")


def enriched(day: int = 22, status: str = "closed") -> object:
    records = (
        record(
            0,
            owners=("@org/qa", "@ada"),
            first_seen=SEEN,
            age_days=659,
            since_mismatch=True,
            ticket_status=status,
            ticket_title="Fixed the race",
            stale=status == "closed",
        ),
        record(1),  # nothing looked up
    )
    return snapshot(records=records, scanned_at=datetime(2026, 11, day, 4, tzinfo=UTC))


def test_enriched_records_read_back_whole(db_url: str) -> None:
    stored = enriched()
    store_snapshot(db_url, stored)  # type: ignore[arg-type]
    found = latest_snapshot(db_url)
    assert found is not None
    assert found.muted == stored.muted  # type: ignore[attr-defined]


def test_ticket_status_keeps_the_latest_answer_per_repo_and_ticket(db_url: str) -> None:
    store_snapshot(db_url, enriched(21, "open"))  # type: ignore[arg-type]
    store_snapshot(db_url, enriched(22, "closed"))  # type: ignore[arg-type]
    other = dataclasses.replace(enriched(22, "open"), repo="https://github.com/org/other")  # type: ignore[type-var]
    store_snapshot(db_url, other)
    with connect(db_url) as db:
        rows = db.execute(
            f'SELECT "repo", "ticket", "status", "title" FROM {db.names.table("ticket_status")} '
            'ORDER BY "repo"'
        )
        joined = db.execute(
            f'SELECT m."nodeid", t."status" FROM {db.names.table("latest_muted_tests")} m '
            f'JOIN {db.names.table("ticket_status")} t ON t."repo" = m."repo" '
            'AND t."ticket" = m."ticket" WHERE m."stale" ORDER BY m."repo"'
        )
    assert [tuple(r) for r in rows] == [
        ("https://github.com/org/other", "DCOS-123", "open", "Fixed the race"),
        ("https://github.com/org/repo", "DCOS-123", "closed", "Fixed the race"),
    ]
    assert [tuple(r) for r in joined] == [("tests/test_a.py::test_0", "closed")]
