"""Each migration, applied to a database at the previous version holding data."""

from __future__ import annotations

from xfail_grabber.sinks.db import latest_snapshot, store_snapshot, upgrade
from xfail_grabber.sinks.db.connection import connect
from xfail_grabber.sinks.db.schema import LATEST, current_version
from xfail_grabber.sinks.db.schema import upgrade as upgrade_db

from .helpers import count_rows, record, rows_at_version_1, snapshot


def test_from_empty_to_latest_records_every_version(db_url: str) -> None:
    assert upgrade(db_url) == (0, LATEST)
    assert upgrade(db_url) == (LATEST, LATEST)
    with connect(db_url) as db:
        versions = db.execute(
            f'SELECT "version" FROM {db.names.table("schema_version")} ORDER BY "version"'
        )
    assert [v for (v,) in versions] == list(range(1, LATEST + 1))


def test_migration_2_adds_the_compatibility_view_over_old_rows(db_url: str) -> None:
    with connect(db_url) as db:
        assert upgrade_db(db, target=1) == (0, 1)
        rows_at_version_1(db)
        assert upgrade_db(db, target=2) == (1, 2)
        view = db.execute(
            'SELECT "test", "ticket", "file", "repo", "branch", "timestamp", '
            f'"since" FROM {db.names.table("xfailflake_history_v1")}'
        )
    assert len(view) == 1  # xfailflake rows only, as the old table held
    test, ticket, file, repo, branch, timestamp, since = view[0]
    assert (test, ticket, file, repo, branch, since) == (
        "t0",
        "DCOS-9",
        "a.py",
        "r",
        "main",
        "2019-01-15",
    )
    assert str(timestamp).startswith("2026-11-20")


def test_migration_3_adds_scan_errors_and_old_snapshots_still_read(db_url: str) -> None:
    with connect(db_url) as db:
        upgrade_db(db, target=2)
        rows_at_version_1(db)
        assert upgrade_db(db, target=3) == (2, 3)
        assert current_version(db) == 3
    old = latest_snapshot(db_url)
    assert old is not None
    assert (old.repo, old.branch, old.commit, old.tool_version) == ("r", "main", "c1", "0.0.9")
    assert [r.kind for r in old.muted] == ["xfailflake", "skip"]
    assert old.errors == ()
    new = snapshot(1, errors=())
    store_snapshot(db_url, new)
    assert latest_snapshot(db_url) == new
    assert count_rows(db_url, "snapshots") == 2


def test_migration_4_adds_the_record_columns_of_schema_2(db_url: str) -> None:
    with connect(db_url) as db:
        upgrade_db(db, target=3)
        rows_at_version_1(db)
        assert upgrade_db(db, target=4) == (3, 4)
    old = latest_snapshot(db_url)
    assert old is not None
    assert [(r.param_index, r.param_id, r.cases, r.ticket_url) for r in old.muted] == [
        (None, None, None, None)
    ] * 2
    assert [r.reason_is_source for r in old.muted] == [False, False]
    new = snapshot(
        records=(
            record(0, param_index=2, param_id="a-1", cases=1, ticket_url="https://x.org/1"),
            record(1, nodeid="tests/test_a.py::test_1[#3]", param_index=3, cases=None),
            record(2, reason="msg", reason_is_source=True, cases=25),
        )
    )
    store_snapshot(db_url, new)
    assert latest_snapshot(db_url) == new


def test_push_on_an_old_schema_migrates_it_first(db_url: str) -> None:
    with connect(db_url) as db:
        upgrade_db(db, target=1)
        rows_at_version_1(db)
    store_snapshot(db_url, snapshot(2, records=(record(0),)))
    with connect(db_url) as db:
        assert current_version(db) == LATEST
    assert count_rows(db_url, "snapshots") == 2
