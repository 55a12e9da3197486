"""What deploy/ ships for dashboards, run for real: every Redash query and every SQL of the
Grafana dashboard against PostgreSQL and SQLite holding stored snapshots, the Redash queries
also through the Redshift checker, and the dashboard's Infinity panels against the routes of
a real `grabber serve` app."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
import yaml

from xfail_grabber.model import DynamicSite
from xfail_grabber.sinks.db import store_snapshot, upgrade
from xfail_grabber.sinks.serve.app import create_app
from xfail_grabber.sinks.serve.runner import ServerThread
from xfail_grabber.sinks.serve.state import DataState

from .helpers import admin_connection, record, snapshot, url_for
from .test_redshift_sql import violations
from .test_views import at, store_history

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
REDASH = sorted((DEPLOY / "redash").glob("*.sql"))
DASHBOARD = json.loads((DEPLOY / "grafana" / "dashboard.json").read_text())
REDASH_COLUMNS = {
    "latest_muted_tests.sql": [
        "repo", "branch", "nodeid", "kind", "category", "ticket", "since", "reason", "path",
        "line", "scanned_at",
    ],
    "trend_by_kind.sql": ["day", "repo", "branch", "kind", "muted"],
    "trend_by_category.sql": ["day", "repo", "branch", "category", "muted"],
    "added_since_previous.sql": [
        "repo", "branch", "day", "nodeid", "kind", "category", "ticket", "reason",
    ],
    "oldest_without_ticket.sql": [
        "repo", "branch", "nodeid", "kind", "since", "reason", "path", "line",
    ],
    "dynamic_sites.sql": ["repo", "branch", "day", "path", "line", "marker", "hook"],
}  # fmt: skip
SITE = DynamicSite("tests/conftest.py", 12, "xfail", "pytest_collection_modifyitems")


def run_sql(kind: str, pg_base: str, tmp_path: Path, sql: str) -> tuple[list[str], list[Any]]:
    """(column names, rows) of `sql` over a database holding store_history()'s snapshots."""
    schema = "s_" + uuid.uuid4().hex[:10]
    url = url_for(kind, pg_base, tmp_path, schema)
    upgrade(url)
    store_history(url)
    untracked = record(5, ticket=None, kwargs=(), since=None, kind="skip")
    dev = snapshot(branch="dev", scanned_at=at(22), records=(untracked,), dynamic=(SITE,))
    store_snapshot(url, dev)
    if kind == "sqlite":
        with sqlite3.connect(tmp_path / "snapshots.db") as conn:
            cursor = conn.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()
    conn = admin_connection(pg_base.rsplit("/", 1)[1])
    try:
        with conn.cursor() as cur:
            cur.execute(f'SET search_path TO "{schema}"')
            cur.execute(sql)
            return [d[0] for d in cur.description], cur.fetchall()
    finally:
        conn.close()


def test_every_redash_query_is_known() -> None:
    assert sorted(p.name for p in REDASH) == sorted(REDASH_COLUMNS)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@pytest.mark.parametrize("path", REDASH, ids=lambda p: p.stem)
def test_redash_queries_run(kind: str, path: Path, pg_base: str, tmp_path: Path) -> None:
    sql = path.read_text()
    assert violations(sql) == []  # Redshift runs it too
    columns, rows = run_sql(kind, pg_base, tmp_path, sql)
    assert columns == REDASH_COLUMNS[path.name]
    if path.name == "added_since_previous.sql":
        # main went 3 -> 4 records on the 21st and to 0 on the 22nd; rel has one snapshot.
        assert rows == []
    elif path.name == "dynamic_sites.sql":
        assert [tuple(r)[:2] + tuple(r)[3:] for r in rows] == [
            ("https://github.com/org/repo", "dev", SITE.path, SITE.line, SITE.marker, SITE.hook)
        ]
    else:
        assert rows, f"{path.name} found nothing in stored snapshots"


def test_added_since_previous_names_the_new_mute(pg_base: str, tmp_path: Path) -> None:
    sql = (DEPLOY / "redash" / "added_since_previous.sql").read_text()
    url = url_for("sqlite", pg_base, tmp_path, "unused")
    store_snapshot(url, snapshot(2, commit="1" * 40, scanned_at=at(20)))
    store_snapshot(url, snapshot(records=(record(0), record(1), record(7)), scanned_at=at(21)))
    with sqlite3.connect(tmp_path / "snapshots.db") as conn:
        rows = conn.execute(sql).fetchall()
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("https://github.com/org/repo", "main", "tests/test_a.py::test_7")
    ]


def grafana_sql(sql: str, branch: str = "main") -> str:
    """The SQL as Grafana sends it: macros and ${var:sqlstring} interpolated."""
    sql = re.sub(
        r"\$__timeFilter\(([^)]+)\)",
        r"\1 BETWEEN '2026-08-01T00:00:00Z' AND '2026-12-01T00:00:00Z'",
        sql,
    )
    values = {"repo": "https://github.com/org/repo", "branch": branch}
    sql = re.sub(
        r"\$\{(\w+):sqlstring\}", lambda m: "'" + values[m[1]].replace("'", "''") + "'", sql
    )
    assert "$" not in sql, sql
    return sql


def provisioned_uids() -> dict[str, str]:
    config = yaml.safe_load((DEPLOY / "grafana" / "datasources.yaml").read_text())
    return {d["uid"]: d["type"] for d in config["datasources"]}


def all_panels() -> list[dict[str, Any]]:
    found = []
    for panel in DASHBOARD["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def test_the_dashboard_is_provisionable_dashboard_json() -> None:
    assert DASHBOARD["uid"] and DASHBOARD["title"] and isinstance(DASHBOARD["schemaVersion"], int)
    uids = provisioned_uids()
    panels = all_panels()
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["type"] in {"timeseries", "table", "stat"}
        for target in panel["targets"]:
            ref = target["datasource"]
            assert uids.get(ref["uid"]) == ref["type"], (panel["title"], ref)
    for variable in DASHBOARD["templating"]["list"]:
        assert uids[variable["datasource"]["uid"]] == variable["datasource"]["type"]
    kinds = {(p["type"], p["datasource"]["uid"]) for p in panels if p["type"] != "row"}
    assert ("timeseries", "grabber-postgres") in kinds and ("table", "grabber-postgres") in kinds
    assert ("timeseries", "grabber-infinity") in kinds and ("table", "grabber-infinity") in kinds
    provider = yaml.safe_load((DEPLOY / "grafana" / "dashboards.yaml").read_text())
    assert provider["providers"][0]["type"] == "file"


def test_every_dashboard_sql_runs_on_postgresql(pg_base: str, tmp_path: Path) -> None:
    checked = 0
    for variable in DASHBOARD["templating"]["list"]:
        columns, rows = run_sql("postgresql", pg_base, tmp_path, grafana_sql(variable["query"]))
        assert len(columns) == 1 and rows, variable["name"]
        checked += 1
    for panel in all_panels():
        for target in panel.get("targets", []):
            if "rawSql" not in target:
                continue
            columns, rows = run_sql("postgresql", pg_base, tmp_path, grafana_sql(target["rawSql"]))
            # main's latest snapshot holds nothing (a count of 0 still is a row); rel's one.
            _, rel = run_sql("postgresql", pg_base, tmp_path, grafana_sql(target["rawSql"], "rel"))
            assert rel, panel["title"]
            if target["format"] == "time_series":
                # Grafana's time-series format: a time column, a metric, then values.
                assert columns[:2] == ["time", "metric"] and len(columns) == 3
                assert {r[1] for r in rows} == {"xfailflake", "skip", "none"}
            checked += 1
    assert checked == 5


def test_oldest_without_ticket_lists_only_untracked_debt(pg_base: str, tmp_path: Path) -> None:
    sql = (DEPLOY / "redash" / "oldest_without_ticket.sql").read_text()
    _, rows = run_sql("sqlite", pg_base, tmp_path, sql)
    assert [r[1:3] for r in rows] == [("dev", "tests/test_a.py::test_5")]


def test_infinity_panels_read_what_grabber_serve_answers() -> None:
    state = DataState(lambda: snapshot(3), lambda s: [])
    state.refresh()
    with ServerThread(create_app(state)) as server:
        targets = [
            t for p in all_panels() for t in p.get("targets", []) if t.get("source") == "url"
        ]
        assert len(targets) == 2
        for target in targets:
            with urlopen(server.url + target["url"], timeout=10) as response:
                body = json.load(response)
            rows = body[target["root_selector"]]
            assert isinstance(rows, list)
            if rows:
                for column in target["columns"]:
                    assert column["selector"] in rows[0], column
