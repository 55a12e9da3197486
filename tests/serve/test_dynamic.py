"""Dynamic mute sites over HTTP (a real server): /api/dynamic, /redash/dynamic, the metric, and
the stored drill-down routes (/api/day, /api/compare) reading them from a real SQLite file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from xfail_grabber.model import DynamicSite
from xfail_grabber.sinks.db import store_snapshot
from xfail_grabber.sinks.formats import redash_dynamic_result, render_json, to_json_text
from xfail_grabber.sinks.serve.stored import DbHistory

from .conftest import Running, StartServer, provider_of
from .snapshots import XSS, small_snapshot
from .test_stored import on

SITES = (
    DynamicSite("conftest.py", 8, "xfail", "pytest_collection_modifyitems"),
    DynamicSite("tests/conftest.py", 13, XSS, "quarantine"),
)


def test_dynamic_routes_list_the_sites(start_server: StartServer) -> None:
    snapshot = small_snapshot(dynamic=SITES)
    server = start_server(provider_of(snapshot))
    reply = server.get("/api/dynamic")
    assert (reply.status, reply.headers["content-type"]) == (200, "application/json")
    assert reply.json() == [
        {
            "path": "conftest.py",
            "line": 8,
            "marker": "xfail",
            "hook": "pytest_collection_modifyitems",
        },
        {"path": "tests/conftest.py", "line": 13, "marker": XSS, "hook": "quarantine"},
    ]
    redash = server.get("/redash/dynamic")
    assert redash.text == to_json_text(redash_dynamic_result(snapshot))
    data = redash.json()
    assert {c["name"]: c["type"] for c in data["columns"]}["line"] == "integer"
    assert [(r["path"], r["line"], r["hook"]) for r in data["rows"]] == [
        ("conftest.py", 8, "pytest_collection_modifyitems"),
        ("tests/conftest.py", 13, "quarantine"),
    ]
    assert data["rows"][0]["repo"] == snapshot.repo
    assert server.get("/api/snapshot").json()["counts"]["dynamic"] == 2
    metrics = server.get("/metrics").text
    assert f'grabber_dynamic_mute_sites{{repo="{snapshot.repo}",branch="main"}} 2' in metrics


def test_no_sites_empty_lists(running: Running) -> None:
    assert running.get("/api/dynamic").json() == []
    assert running.get("/redash/dynamic").json()["rows"] == []


def test_before_the_first_snapshot_the_routes_say_why(start_server: StartServer) -> None:
    server = start_server(refresh=False)
    for route in ("/api/dynamic", "/redash/dynamic"):
        reply = server.get(route)
        assert reply.status == 503 and "no snapshot yet" in reply.json()["error"]


def test_stored_days_carry_their_sites(start_server: StartServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/grabber.db"
    full = small_snapshot()
    store_snapshot(url, on(18, full, muted=full.muted[:3]))
    store_snapshot(url, on(19, full, dynamic=SITES[:1]))
    server = start_server(history=DbHistory(url))
    day = server.get("/api/day?day=2026-11-19")
    assert day.text == render_json(on(19, full, dynamic=SITES[:1]))
    assert day.json()["dynamic"] == [SITES[0].to_dict()]
    assert server.get("/api/day?day=2026-11-18").json()["dynamic"] == []
    compared = server.get("/api/compare?from=2026-11-18&to=2026-11-19").json()
    assert compared["from"]["dynamic"] == []
    assert compared["to"]["dynamic"] == [SITES[0].to_dict()]
    # The current snapshot (the 20th) is compared from memory: its sites come along too.
    current = dataclasses.replace(full, dynamic=SITES)
    server = start_server(provider_of(current), history=DbHistory(url))
    latest = server.get("/api/compare?from=2026-11-19&to=2026-11-20").json()
    assert [d["line"] for d in latest["to"]["dynamic"]] == [8, 13]
