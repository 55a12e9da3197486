"""Rows of the original dashboards.xfailflake_history_v1 table: imported, and the view that
keeps old dashboards working."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from xfail_grabber.sinks.db import (
    DatabaseError,
    import_legacy,
    latest_snapshot,
    store_snapshot,
    trend,
    upgrade,
    with_names,
)
from xfail_grabber.sinks.db.connection import connect

from .helpers import count_rows, record, snapshot, url_for

# The original tool's DDL and what its daily runs left behind: every run inserted every row
# again, so the same test appears once per run.
ORIGINAL_DDL = """CREATE TABLE {table} (
    test VARCHAR(256), ticket VARCHAR(256), file VARCHAR(256), repo VARCHAR(256),
    branch VARCHAR(256), timestamp TIMESTAMP, since TIMESTAMP)"""
OLD_ROWS = [
    ("test_a", "DCOS-1", "t/test_x.py", "dcos", "master", "2019-03-01 10:00:00", "2019-01-15"),
    ("test_b", "DCOS-2", "t/test_x.py", "dcos", "master", "2019-03-01 10:00:00", None),
    ("test_a", "DCOS-1", "t/test_x.py", "dcos", "master", "2019-03-01 16:00:00", "2019-01-15"),
    ("test_b", "DCOS-2", "t/test_x.py", "dcos", "master", "2019-03-01 16:00:00", None),
    ("test_a", "DCOS-1", "t/test_x.py", "dcos", "master", "2019-03-02 10:00:00", "2019-01-15"),
    ("test_c", None, "t/test_y.py", "dcos", "1.12", "2019-03-02 10:00:00", "2019-02-01 12:30:00"),
]


def make_old_table(url: str, table: str) -> None:
    with connect(url) as db:
        db.execute(ORIGINAL_DDL.format(table=table))
        for row in OLD_ROWS:
            db.execute(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)", row)


@pytest.fixture
def old_table(db_url: str) -> str:
    if db_url.startswith("sqlite"):
        table = "xfailflake_history_v1_old"
    else:
        schema = "dashboards_" + uuid.uuid4().hex[:8]
        with connect(db_url) as db:
            db.execute(f"CREATE SCHEMA {schema}")
        table = f"{schema}.xfailflake_history_v1"
    make_old_table(db_url, table)
    return table


def test_import_makes_one_snapshot_per_repo_branch_and_day(db_url: str, old_table: str) -> None:
    assert import_legacy(db_url, old_table) == 3
    assert import_legacy(db_url, old_table) == 3  # again: replaced, not duplicated
    assert count_rows(db_url, "snapshots") == 3
    assert [(p["day"], p["branch"], p["total"]) for p in trend(db_url)] == [
        ("2019-03-01", "master", 2),
        ("2019-03-02", "1.12", 1),
        ("2019-03-02", "master", 1),
    ]
    latest = latest_snapshot(db_url, "dcos", "1.12")
    assert latest is not None
    (only,) = latest.muted
    assert (only.nodeid, only.kind, only.ticket, only.since, only.parser) == (
        "t/test_y.py::test_c",
        "xfailflake",
        None,
        "2019-02-01T12:30:00Z",
        "legacy",
    )
    first_day = trend(db_url, "dcos", "master")[0]
    assert first_day["by_kind"] == {"xfailflake": 2}


def test_the_view_has_the_original_columns(db_url: str, old_table: str) -> None:
    import_legacy(db_url, old_table)
    store_snapshot(db_url, snapshot(records=(record(0), record(1, kind="skip"))))
    with connect(db_url) as db:
        rows = db.execute(
            'SELECT "test", "ticket", "file", "repo", "branch", "timestamp", '
            f'"since" FROM {db.names.table("xfailflake_history_v1")} '
            'ORDER BY "timestamp", "test"'
        )
    assert [(r[0], r[1], r[2], r[3], r[4], r[6]) for r in rows] == [
        ("test_a", "DCOS-1", "t/test_x.py", "dcos", "master", "2019-01-15"),
        ("test_b", "DCOS-2", "t/test_x.py", "dcos", "master", None),
        ("test_a", "DCOS-1", "t/test_x.py", "dcos", "master", "2019-01-15"),
        ("test_c", None, "t/test_y.py", "dcos", "1.12", "2019-02-01T12:30:00Z"),
        (
            "test_0",
            "DCOS-123",
            "tests/test_a.py",
            "https://github.com/org/repo",
            "main",
            "2019-01-15",
        ),  # the skip record is not an xfailflake row
    ]
    assert str(rows[0][5]).startswith("2019-03-01 16:00:00") or str(rows[0][5]).startswith(
        "2019-03-01T16:00:00"
    )


@pytest.mark.parametrize("kind", ["postgresql", "redshift"])
def test_old_table_in_the_target_schema_is_left_alone(
    kind: str, pg_base: str, tmp_path: Path
) -> None:
    schema = "dashboards_" + uuid.uuid4().hex[:8]
    url = url_for(kind, pg_base, tmp_path, schema)
    with connect(url.replace(f"schema={schema}", "schema=public")) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    make_old_table(url, f"{schema}.xfailflake_history_v1")
    upgrade(url)  # no view can take the table's name; everything else is created
    assert import_legacy(url, f"{schema}.xfailflake_history_v1") == 3
    assert count_rows(url, "xfailflake_history_v1") == len(OLD_ROWS)  # still the old table


def test_importing_our_own_view_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    upgrade(url)
    with pytest.raises(DatabaseError, match="compatibility view"):
        import_legacy(url, "xfailflake_history_v1")
    prefixed = with_names(url, table_prefix="p_")
    upgrade(prefixed)
    with pytest.raises(DatabaseError, match="compatibility view"):
        import_legacy(prefixed, "p_xfailflake_history_v1")


def test_missing_source_table_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no such table") as caught:
        import_legacy(f"sqlite:///{tmp_path}/x.db", "nowhere")
    assert "\n" not in str(caught.value)


def test_imported_snapshots_validate_against_the_schema(db_url: str, old_table: str) -> None:
    """Records made from the old table say `"parser": "legacy"`; the shipped JSON Schema takes
    them, as read back from the database and as `legacy_snapshots` makes them."""
    import jsonschema

    from xfail_grabber.model import snapshot_schema
    from xfail_grabber.sinks.db.push import legacy_snapshots

    import_legacy(db_url, old_table)
    schema = snapshot_schema()
    stored = [latest_snapshot(db_url, "dcos", branch) for branch in ("master", "1.12")]
    made = legacy_snapshots(OLD_ROWS)
    for found in (*stored, *made):
        assert found is not None
        data = found.to_dict()
        jsonschema.validate(data, schema)
        assert {r["parser"] for r in data["muted"]} == {"legacy"}
