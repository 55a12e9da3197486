"""Migration 8: muted_tests.def_path (the file of `line` for a test method inherited from a
base class in another file), on SQLite, PostgreSQL and the Redshift dialect (on PostgreSQL):
written by push, read back, in latest_muted_tests, and reached from every earlier version
with what those versions stored (mark_path of version 7 included) still read."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from xfail_grabber.sinks.db import latest_snapshot, store_snapshot, trace_statements, upgrade
from xfail_grabber.sinks.db.connection import connect
from xfail_grabber.sinks.db.dialect import truncate_utf8
from xfail_grabber.sinks.db.schema import LATEST, MUTED, current_version

from .helpers import database_at, latest_rows, pushed_fixture, record, snapshot, url_for
from .test_redshift_sql import violations

REPO = "https://github.com/org/repo"
INHERITED = record(0, def_path="tests/bases.py", line=8, mark_path="tests/bases.py", mark_line=6)
OWN = record(1)


def test_def_path_round_trips(db_url: str) -> None:
    stored = snapshot(records=(INHERITED, OWN))
    store_snapshot(db_url, stored)
    found = latest_snapshot(db_url)
    assert found == stored
    assert found is not None
    assert [(r.def_path, r.mark_path) for r in found.muted] == [
        ("tests/bases.py", "tests/bases.py"),
        (None, None),
    ]


@pytest.mark.parametrize("start", range(LATEST))
def test_migration_8_from_every_earlier_version(db_url: str, start: int) -> None:
    database_at(db_url, start)
    if start >= 7:  # a mark_path stored by version 7 survives
        with connect(db_url) as db:
            db.execute(
                f'UPDATE {db.names.table(MUTED)} SET "mark_path" = ? WHERE "position" = 0',
                ("a_base.py",),
            )
    if start:
        # A database that was not migrated (a read-only user's) still reads, without def_path.
        old = latest_snapshot(db_url)
        assert old is not None
        assert [(r.def_path, r.mark_path) for r in old.muted] == [
            (None, "a_base.py" if start >= 7 else None),
            (None, None),
        ]
    assert upgrade(db_url) == (start, LATEST)
    with connect(db_url) as db:
        assert current_version(db) == LATEST == 8
    if start:
        migrated = latest_snapshot(db_url)
        assert migrated is not None
        assert [(r.nodeid, r.def_path, r.mark_path) for r in migrated.muted] == [
            ("a.py::t0", None, "a_base.py" if start >= 7 else None),
            ("a.py::t1", None, None),
        ]
    new = snapshot(records=(INHERITED, OWN))
    store_snapshot(db_url, new)
    assert latest_snapshot(db_url) == new
    assert latest_rows(db_url, REPO, ("nodeid", "line", "def_path", "mark_path")) == [
        ("tests/test_a.py::test_0", 8, "tests/bases.py", "tests/bases.py"),
        ("tests/test_a.py::test_1", 12, None, None),
    ]


def test_redshift_statements_and_varchar_limit(pg_base: str, tmp_path: Path) -> None:
    url = url_for("redshift", pg_base, tmp_path, "rs_" + uuid.uuid4().hex[:10])
    huge = snapshot(records=(replace(INHERITED, def_path="b/" + "é" * 3000), OWN))
    with trace_statements() as statements:
        upgrade(url)
        store_snapshot(url, huge)
        found = latest_snapshot(url)
    assert any("ADD COLUMN" in s and '"def_path" VARCHAR(4096)' in s for s in statements)
    problems = {s[:200]: v for s in statements if (v := violations(s))}
    assert problems == {}
    assert found is not None
    assert found.muted[0].def_path == truncate_utf8("b/" + "é" * 3000, 4096)


def test_a_scanned_snapshot_reads_back_whole(db_url: str, tmp_path: Path) -> None:
    """The scanner's own def_path (methods inherited across files, through a chain of bases
    in pytest_forms) through push and back."""
    for name in ("pytest_forms", "mark_path"):
        dumped, stored = pushed_fixture(db_url, name, tmp_path)
        assert stored.muted == dumped.muted
        assert any(r.def_path for r in stored.muted)
