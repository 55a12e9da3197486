"""Migration 7: dynamic_sites (a snapshot's add_marker sites in hooks and fixtures) and
muted_tests.mark_path, on SQLite, PostgreSQL and the Redshift dialect (on PostgreSQL):
written by push in the snapshot's transaction, replaced and pruned with it, read back, and
reached from every earlier schema version."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from xfail_grabber.model import DynamicSite, Snapshot
from xfail_grabber.sinks.db import (
    latest_snapshot,
    prune,
    snapshot_on,
    store_snapshot,
    trace_statements,
    upgrade,
)
from xfail_grabber.sinks.db.connection import connect
from xfail_grabber.sinks.db.dialect import truncate_utf8
from xfail_grabber.sinks.db.schema import LATEST, current_version

from .helpers import count_rows, database_at, latest_rows, pushed_fixture, record, snapshot, url_for
from .test_redshift_sql import violations

REPO = "https://github.com/org/repo"
SITES = (
    DynamicSite("conftest.py", 8, "xfail", "pytest_collection_modifyitems"),
    DynamicSite("tests/conftest.py", 13, "skip", "quarantine"),
    DynamicSite("tests/ui/conftest.py", 4, "marks['flaky'] 'é' \\ ; --", "pytest_runtest_setup"),
)
INHERITED = record(0, mark_path="tests/bases.py", mark_line=6)


def with_sites(**changes: object) -> Snapshot:
    values: dict[str, object] = {"records": (INHERITED, record(1)), "dynamic": SITES, **changes}
    return snapshot(**values)


def test_sites_and_mark_path_round_trip(db_url: str) -> None:
    stored = with_sites()
    store_snapshot(db_url, stored)
    found = latest_snapshot(db_url)
    assert found == stored
    assert found is not None and found.dynamic == SITES
    assert found.muted[0].mark_path == "tests/bases.py" and found.muted[1].mark_path is None
    assert found.counts()["dynamic"] == 3
    on_day = snapshot_on(db_url, REPO, "main", "2026-11-22")
    assert on_day is not None and on_day.dynamic == SITES


def test_sites_are_replaced_and_pruned_with_their_snapshot(db_url: str) -> None:
    store_snapshot(db_url, with_sites())
    store_snapshot(db_url, with_sites())  # the same key: replaced
    assert count_rows(db_url, "dynamic_sites") == 3
    fewer = replace(with_sites(), dynamic=SITES[:1])
    store_snapshot(db_url, fewer)
    assert count_rows(db_url, "dynamic_sites") == 1
    stored = latest_snapshot(db_url)
    assert stored is not None and stored.dynamic == SITES[:1]
    old = replace(with_sites(), scanned_at=fewer.scanned_at - timedelta(days=500))
    store_snapshot(db_url, old)
    assert count_rows(db_url, "dynamic_sites") == 4
    assert prune(db_url, timedelta(days=400), now=fewer.scanned_at) == 1
    assert count_rows(db_url, "dynamic_sites") == 1
    assert count_rows(db_url, "snapshots") == 1


def test_a_snapshot_without_sites_stores_none(db_url: str) -> None:
    store_snapshot(db_url, snapshot(2))
    assert count_rows(db_url, "dynamic_sites") == 0
    found = latest_snapshot(db_url)
    assert found is not None and found.dynamic == () and found.counts()["dynamic"] == 0


@pytest.mark.parametrize("start", range(LATEST))
def test_migration_7_from_every_earlier_version(db_url: str, start: int) -> None:
    database_at(db_url, start)
    if start:
        # A database that was not migrated (a read-only user's) still reads, without sites.
        old = latest_snapshot(db_url)
        assert old is not None and old.dynamic == ()
        assert [r.mark_path for r in old.muted] == [None, None]
    assert upgrade(db_url) == (start, LATEST)
    with connect(db_url) as db:
        assert current_version(db) == LATEST >= 7
    if start:
        migrated = latest_snapshot(db_url)
        assert migrated is not None and migrated.dynamic == ()
        assert [(r.nodeid, r.mark_path) for r in migrated.muted] == [
            ("a.py::t0", None),
            ("a.py::t1", None),
        ]
    new = with_sites()
    store_snapshot(db_url, new)
    assert latest_snapshot(db_url) == new
    assert latest_rows(db_url, REPO, ("nodeid", "mark_path")) == [
        ("tests/test_a.py::test_0", "tests/bases.py"),
        ("tests/test_a.py::test_1", None),
    ]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_dynamic_sites_are_indexed_by_snapshot(kind: str, pg_base: str, tmp_path: Path) -> None:
    schema = "ix_" + uuid.uuid4().hex[:10]
    url = url_for(kind, pg_base, tmp_path, schema)
    upgrade(url)
    with connect(url) as db:
        if kind == "sqlite":
            sql = "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
            found = [r[0] for r in db.execute(sql, ("dynamic_sites",))]
        else:
            sql = "SELECT indexdef FROM pg_indexes WHERE schemaname = ? AND tablename = ?"
            found = [r[0] for r in db.execute(sql, (schema, "dynamic_sites"))]
    assert len(found) == 1 and "dynamic_sites_snapshot" in found[0]
    assert found[0].replace('"', "").endswith("(snapshot_id)")


def test_redshift_statements_and_varchar_limits(pg_base: str, tmp_path: Path) -> None:
    url = url_for("redshift", pg_base, tmp_path, "rs_" + uuid.uuid4().hex[:10])
    long = DynamicSite("tests/conftest.py", 1, "é" * 700, "h" * 2000)
    huge = with_sites(records=(replace(INHERITED, mark_path="b/" + "é" * 3000),))
    huge = replace(huge, dynamic=(*SITES, long))
    with trace_statements() as statements:
        upgrade(url)
        store_snapshot(url, huge)
        store_snapshot(url, huge)
        found = latest_snapshot(url)
        prune(url, timedelta(days=1), now=huge.scanned_at + timedelta(days=5))
    ddl = [s for s in statements if "dynamic_sites" in s and s.startswith("CREATE")]
    assert len(ddl) == 1 and "VARCHAR(1024)" in ddl[0] and "INDEX" not in ddl[0]
    assert any("ADD COLUMN" in s and '"mark_path" VARCHAR(4096)' in s for s in statements)
    problems = {s[:200]: v for s in statements if (v := violations(s))}
    assert problems == {}
    assert found is not None
    assert found.dynamic[:3] == SITES
    assert found.dynamic[3].marker == truncate_utf8("é" * 700, 1024)
    assert found.dynamic[3].hook == "h" * 1024
    assert found.muted[0].mark_path == truncate_utf8("b/" + "é" * 3000, 4096)


def test_a_scanned_snapshot_reads_back_whole(db_url: str, tmp_path: Path) -> None:
    """The scanner's own output (hook sites, marks inherited across files) through push."""
    for name, sites in (("pytest_forms", 2), ("mark_path", 0)):
        dumped, stored = pushed_fixture(db_url, name, tmp_path)
        assert (stored.muted, stored.dynamic) == (dumped.muted, dumped.dynamic)
        assert len(stored.dynamic) == sites
        assert any(r.mark_path for r in stored.muted)
