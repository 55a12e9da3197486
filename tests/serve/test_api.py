from __future__ import annotations

import gzip
import json
from datetime import date

import pytest

from xfail_grabber.model import Snapshot
from xfail_grabber.sinks.formats import render_csv, render_json, render_redash
from xfail_grabber.sinks.serve.view import View, muted_page, parse_query

from .conftest import Running, StartServer
from .snapshots import XSS, big_snapshot, small_snapshot


def test_redash_is_byte_for_byte_what_dump_prints(running: Running) -> None:
    reply = running.get("/redash")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.text == render_redash(small_snapshot())
    data = reply.json()
    types = {c["name"]: c["type"] for c in data["columns"]}
    assert types["line"] == "integer" and types["scanned_at"] == "datetime"
    assert types["strict"] == "boolean" and types["nodeid"] == "string"
    assert {c["name"] for c in data["columns"]} == set(data["rows"][0])
    assert data["rows"][0]["scanned_at"] == "2026-11-20T06:00:00Z"
    assert len(data["rows"]) == 5


def test_redash_takes_the_filters(running: Running) -> None:
    rows = running.get("/redash?kind=xfailflake").json()["rows"]
    assert [r["nodeid"] for r in rows] == ["tests/api/test_users.py::test_create"]
    assert running.get("/redash?limit=3").status == 400  # no paging there


def test_snapshot_and_csv(running: Running) -> None:
    assert running.get("/api/snapshot").text == render_json(small_snapshot())
    reply = running.get("/muted.csv")
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="muted.csv"' in reply.headers["content-disposition"]
    assert reply.text == render_csv(small_snapshot())
    assert running.get("/muted.csv?category=retry").text.count("\n") == 2


def test_big_bodies_are_gzipped_and_revalidated_by_etag(start_server: StartServer) -> None:
    snapshot = big_snapshot(500)
    server = start_server(lambda: snapshot)
    reply = server.get("/redash", **{"Accept-Encoding": "gzip"})
    assert reply.headers["content-encoding"] == "gzip"
    assert gzip.decompress(reply.body).decode() == render_redash(snapshot)
    etag = reply.headers["etag"]
    again = server.get("/redash", **{"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert server.get("/redash").headers.get("content-encoding") is None


def muted(running: Running, query: str) -> list[str]:
    reply = running.get("/api/muted" + query)
    assert reply.status == 200, reply.text
    return [r["nodeid"] for r in reply.json()["muted"]]


def test_muted_filters(running: Running) -> None:
    assert len(muted(running, "")) == 5
    assert muted(running, "?kind=flaky") == ["tests/ui/test_login.py::test_login[chrome]"]
    assert len(muted(running, "?kind=flaky,skip")) == 2
    assert len(muted(running, "?kind=flaky&kind=skip")) == 2
    assert muted(running, "?category=conditional") == [
        "tests/api/test_users.py::TestAdmin::test_grant"
    ]
    assert muted(running, "?ticket=dcos-123") == ["tests/api/test_users.py::test_create"]
    assert len(muted(running, "?has_ticket=false")) == 1
    assert len(muted(running, "?path=tests/ui/")) == 2
    assert muted(running, "?path=tests/nowhere/") == []


def test_older_than_counts_days_from_since() -> None:
    view = View.build(small_snapshot(), [])
    filters, page = parse_query([("older_than", "365")], paged=True)
    body = json.loads(muted_page(view, filters, page, date(2026, 11, 22)))
    # 2019-01-15 and 2024-06-30 are more than a year old; 2026-11-01 is not; no since: out.
    assert [r["since"] for r in body["muted"]] == ["2019-01-15", "2024-06-30"]
    filters, page = parse_query([("older_than", "0")], paged=True)
    assert json.loads(muted_page(view, filters, page, date(2026, 11, 22)))["total"] == 3


def test_pagination_walks_every_record_once(start_server: StartServer) -> None:
    snapshot = big_snapshot(250)
    server = start_server(lambda: snapshot)
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = server.get(f"/api/muted?limit=100&offset={offset}").json()
        assert page["total"] == 250 and page["limit"] == 100
        seen.extend(r["nodeid"] for r in page["muted"])
        offset = page["next_offset"]
    assert seen == [r.nodeid for r in snapshot.muted]
    assert server.get("/api/muted?offset=1000").json()["muted"] == []


def test_sorting(running: Running) -> None:
    since = [r for r in muted(running, "?sort=since")]
    assert since[0] == "tests/api/test_users.py::test_create"  # 2019-01-15
    lines = running.get("/api/muted?sort=-line").json()["muted"]
    assert [r["line"] for r in lines] == sorted((r["line"] for r in lines), reverse=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?bogus=1", "unknown parameter 'bogus'"),
        ("?limit=0", "limit: expected a whole number from 1 to 1000"),
        ("?limit=5000", "limit: expected a whole number from 1 to 1000"),
        ("?limit=ten", "limit: expected a whole number"),
        ("?offset=-1", "offset: expected a whole number"),
        ("?older_than=1.5", "older_than: expected a whole number"),
        ("?has_ticket=maybe", "has_ticket: expected true or false"),
        ("?sort=reason", "sort: expected one of"),
        ("?limit=1&limit=2", "limit: give it once"),
        ("?path=" + "a" * 1001, "path: value longer than 1000"),
    ],
)
def test_bad_parameters_are_a_clear_400(running: Running, query: str, message: str) -> None:
    reply = running.get("/api/muted" + query)
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/json"
    assert message in reply.json()["error"]


def test_trend_from_the_snapshots_seen(running: Running) -> None:
    days = running.get("/api/trend").json()["days"]
    assert days == [
        {
            "day": "2026-11-20",
            "repo": "https://github.com/example/project",
            "branch": "main",
            "total": 5,
            "by_kind": {"flaky": 1, "skip": 1, "skipif": 1, "xfail": 1, "xfailflake": 1},
            "by_category": {"conditional": 1, "muted": 3, "retry": 1},
        }
    ]


def test_metrics_in_prometheus_text(running: Running) -> None:
    reply = running.get("/metrics")
    assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = reply.text.splitlines()
    base = 'repo="https://github.com/example/project",branch="main"'
    assert f'grabber_muted_tests{{{base},kind="xfailflake"}} 1' in lines
    assert f'grabber_muted_tests_by_category{{{base},category="muted"}} 3' in lines
    assert f"grabber_muted_tests_total{{{base}}} 5" in lines
    assert f"grabber_scan_errors{{{base}}} 1" in lines
    assert "grabber_last_refresh_ok 1" in lines
    assert "grabber_refresh_failures_total 0" in lines
    assert any(line.startswith(f"grabber_snapshot_age_seconds{{{base}}} ") for line in lines)
    for line in lines:
        assert line.startswith("# ") or line.startswith("grabber_"), line


def test_metric_labels_are_escaped(start_server: StartServer) -> None:
    odd = small_snapshot(repo='https://example.com/a"b\\c\nd')
    text = start_server(lambda: odd).get("/metrics").text
    assert 'repo="https://example.com/a\\"b\\\\c\\nd"' in text


def test_healthz(running: Running) -> None:
    reply = running.get("/healthz")
    assert reply.status == 200
    body = reply.json()
    assert body["status"] == "ok" and body["last_error"] is None
    assert body["snapshot"]["total"] == 5


def test_the_page_and_its_files_ship_in_the_package(running: Running) -> None:
    page = running.get("/")
    assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    for asset in ("/static/app.js", "/static/app.css"):
        assert asset in page.text
        assert running.get(asset).status == 200
    # Nothing from the internet: no absolute URLs to other hosts in the page or its assets.
    for path in ("/", "/static/app.js", "/static/app.css"):
        text = running.get(path).text
        assert "//cdn" not in text and "googleapis" not in text
        assert '<script src="http' not in text


def test_the_page_holds_no_scanned_data_and_json_is_not_sniffed(running: Running) -> None:
    assert XSS not in running.get("/").text
    reply = running.get("/api/snapshot")
    assert XSS in reply.json()["muted"][1]["reason"] or XSS in reply.text
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in running.get("/").headers["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/",
        "/static",
        "/static/app.js/../../view.py",
        "/etc/passwd",
        "/../../etc/passwd",
    ],
)
def test_no_traversal_and_no_listing(running: Running, path: str) -> None:
    reply = running.get(path)
    assert reply.status == 404
    assert b"import" not in reply.body and b"root:" not in reply.body


def test_wrong_method(running: Running) -> None:
    assert running.request("/redash", method="POST").status == 405
    assert running.request("/refresh", method="GET").status == 405
    head = running.request("/redash", method="HEAD")
    assert head.status == 200 and head.body == b""


def test_every_route_answers_503_until_the_first_snapshot(start_server: StartServer) -> None:
    server = start_server(refresh=False)
    for path in ("/redash", "/api/snapshot", "/api/muted", "/api/trend", "/muted.csv"):
        reply = server.get(path)
        assert reply.status == 503, path
        assert "first scan is running in the background" in reply.json()["error"]
        assert reply.headers["retry-after"] == "5"
    assert server.get("/healthz").status == 503
    assert server.get("/healthz").json()["status"] == "starting"
    assert "grabber_snapshot_loaded 0" in server.get("/metrics").text
    assert server.get("/").status == 200  # the page itself says "loading"


def test_snapshot_without_records(start_server: StartServer) -> None:
    empty: Snapshot = small_snapshot(muted=(), errors=())
    server = start_server(lambda: empty)
    assert server.get("/redash").json()["rows"] == []
    assert server.get("/api/muted").json()["total"] == 0
