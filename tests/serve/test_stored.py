"""Drill-down and comparison routes over stored snapshots (a real SQLite database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xfail_grabber.model import Snapshot
from xfail_grabber.sinks.db import store_snapshot
from xfail_grabber.sinks.formats import render_json
from xfail_grabber.sinks.serve.stored import DbHistory

from .conftest import Running, StartServer
from .snapshots import small_snapshot

REPO = "https://github.com/example/project"


def on(day: int, snapshot: Snapshot, **changes: object) -> Snapshot:
    moment = datetime(2026, 11, day, 5, tzinfo=UTC)
    return dataclasses.replace(snapshot, scanned_at=moment, commit=f"{day:040d}", **changes)


def stored(tmp_path: Path) -> str:
    """Three records on the 18th; on the 19th a fourth and a changed reason; branch rel."""
    url = f"sqlite:///{tmp_path}/grabber.db"
    full = small_snapshot()
    r = full.muted
    store_snapshot(url, on(18, full, muted=r[:3]))
    edited = dataclasses.replace(r[1], reason="still flaky")
    store_snapshot(url, on(19, full, muted=(r[0], edited, r[2], r[3])))
    store_snapshot(url, on(19, full, branch="rel", muted=r[:1]))
    return url


@pytest.fixture
def with_db(start_server: StartServer, tmp_path: Path) -> Running:
    return start_server(history=DbHistory(stored(tmp_path)))


def test_targets_lists_every_stored_branch_and_the_current_one(with_db: Running) -> None:
    targets = with_db.get("/api/targets").json()["targets"]
    assert [(t["repo"], t["branch"], t["days"], t["current"]) for t in targets] == [
        (REPO, "main", 2, True),
        (REPO, "rel", 1, False),
    ]
    assert targets[0]["first_day"] == "2026-11-18" and targets[0]["last_day"] == "2026-11-19"


def test_day_reads_the_stored_snapshot_of_that_day(with_db: Running) -> None:
    day = with_db.get("/api/day?day=2026-11-18").json()
    assert day["commit"] == f"{18:040d}" and day["counts"]["total"] == 3
    # The current snapshot's own day is the current snapshot, byte for byte.
    assert with_db.get("/api/day?day=2026-11-20").text == render_json(small_snapshot())
    assert with_db.get("/api/day").text == render_json(small_snapshot())
    other = with_db.get(f"/api/day?repo={REPO}&branch=rel").json()
    assert (other["branch"], other["counts"]["total"]) == ("rel", 1)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("day=2026-11-17", 404, "no snapshot stored for " + REPO + "@main on 2026-11-17"),
        ("day=2026-13-01", 400, "day: no such day: 2026-13-01"),
        ("day=yesterday", 400, "day: expected a day as YYYY-MM-DD, got 'yesterday'"),
        ("day=2026-11-18&day=2026-11-19", 400, "day: give it once"),
        ("branch=rel", 400, "branch: give repo too"),
        ("days=2", 400, "unknown parameter 'days'; known: day, repo, branch"),
    ],
)
def test_day_refuses_what_it_cannot_answer(
    with_db: Running, query: str, status: int, message: str
) -> None:
    reply = with_db.get("/api/day?" + query)
    assert (reply.status, reply.json()) == (status, {"error": message})


def test_compare_names_what_was_added_removed_and_changed(with_db: Running) -> None:
    result = with_db.get("/api/compare?from=2026-11-18&to=2026-11-19").json()
    assert result["counts"] == {"added": 1, "removed": 0, "changed": 1}
    assert (result["from"]["total"], result["to"]["total"]) == (3, 4)
    small = small_snapshot().muted
    assert [r["nodeid"] for r in result["added"]] == [small[3].nodeid]
    assert result["changed"][0]["fields"] == ["reason"]
    assert result["changed"][0]["after"]["reason"] == "still flaky"
    # Against the current snapshot (the 20th): the fifth record arrives, the edit reverts.
    latest = with_db.get("/api/compare?from=2026-11-19&to=2026-11-20").json()
    assert latest["counts"] == {"added": 1, "removed": 0, "changed": 1}
    assert with_db.get("/api/compare?from=2026-11-19").status == 400


def test_trend_of_another_branch_comes_from_the_database(with_db: Running) -> None:
    days = with_db.get(f"/api/trend?repo={REPO}&branch=rel").json()["days"]
    assert [(d["day"], d["branch"], d["total"]) for d in days] == [("2026-11-19", "rel", 1)]
    assert with_db.get("/api/trend?sort=day").status == 400


def test_without_a_database_only_the_current_snapshot_is_there(running: Running) -> None:
    reply = running.get("/api/day?day=2026-11-18")
    assert reply.status == 404
    assert "serve with --db" in reply.json()["error"]
    targets = running.get("/api/targets").json()["targets"]
    assert [(t["branch"], t["current"]) for t in targets] == [("main", True)]
    assert running.get("/api/info").json()["poll_seconds"] == 10
