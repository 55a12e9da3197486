"""Owners, age and ticket status in the API, the metrics and the page."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from xfail_grabber.model import FirstSeen, Snapshot
from xfail_grabber.sinks.serve.app import create_app
from xfail_grabber.sinks.serve.runner import ServerThread
from xfail_grabber.sinks.serve.state import DataState

from .conftest import StartServer
from .snapshots import small_snapshot
from .test_browser import browser, shown  # noqa: F401 - the fixture


def enriched() -> Snapshot:
    base = small_snapshot()
    seen = FirstSeen("c" * 40, datetime(2025, 1, 1, tzinfo=UTC), "Ada")
    extra: list[dict[str, Any]] = [
        {"owners": ("@org/api",), "ticket_status": "closed", "stale": True, "age_days": 400},
        {"owners": ("@org/api", "@ada"), "ticket_status": "open", "stale": False, "age_days": 20},
        {"owners": ("@org/ui",), "ticket_status": "unknown", "stale": False, "age_days": 3},
        {"owners": ("@org/ui",)},
        {},
    ]
    records = tuple(
        dataclasses.replace(r, first_seen=seen if e.get("age_days") else None, **e)
        for r, e in zip(base.muted, extra, strict=True)
    )
    return dataclasses.replace(base, muted=records)


def nodeids(body: dict[str, Any]) -> list[str]:
    return [r["nodeid"] for r in body["muted"]]


@pytest.mark.parametrize(
    ("query", "picked"),
    [
        ("owner=@org/api", [0, 1]),
        ("owner=@ORG/UI", [2, 3]),
        ("stale=true", [0]),
        ("stale=false", [1, 2, 3, 4]),
        ("ticket_status=open,unknown", [1, 2]),
        ("min_age=20", [0, 1]),
        ("owner=@org/api&stale=false", [1]),
    ],
)
def test_muted_filters(start_server: StartServer, query: str, picked: list[int]) -> None:
    snapshot = enriched()
    running = start_server(lambda: snapshot)
    body = running.get("/api/muted?" + query).json()
    assert sorted(nodeids(body)) == sorted(snapshot.muted[i].nodeid for i in picked)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("stale=yes", "stale: expected true or false, got 'yes'"),
        ("ticket_status=done", "ticket_status: expected open, closed, unknown, got 'done'"),
        ("min_age=-1", "min_age: expected a whole number from 0 to 100000, got '-1'"),
    ],
)
def test_bad_filters(start_server: StartServer, query: str, error: str) -> None:
    reply = start_server(enriched).get("/api/muted?" + query)
    assert (reply.status, reply.json()) == (400, {"error": error})


def test_metrics_count_stale_and_per_owner(start_server: StartServer) -> None:
    text = start_server(enriched).get("/metrics").text
    base = 'repo="https://github.com/example/project",branch="main"'
    assert f"grabber_stale_muted_tests{{{base}}} 1" in text
    assert f'grabber_muted_tests_by_owner{{{base},owner="@org/api"}} 2' in text
    assert f'grabber_muted_tests_by_owner{{{base},owner=""}} 1' in text


def test_the_page_shows_owners_and_stale_ones_first(browser: Any) -> None:  # noqa: F811
    snapshot = enriched()
    state = DataState(lambda: snapshot)
    state.refresh()
    with ServerThread(create_app(state)) as server:
        browser.get(server.url + "/")
        WebDriverWait(browser, 15).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true"
        )
        assert shown(browser)[0] == snapshot.muted[0].nodeid  # stale first
        first = browser.find_element(By.CSS_SELECTOR, "#rows tr")
        assert first.find_element(By.CSS_SELECTOR, "td.owners").text == "@org/api"
        badge = first.find_element(By.CSS_SELECTOR, "td.ticket-status .badge.stale")
        assert badge.text == "stale: ticket closed"
        assert browser.find_element(By.ID, "stale-count").text == "1 stale (ticket closed)"
        Select(browser.find_element(By.ID, "filter-owner")).select_by_value("@org/ui")
        assert sorted(shown(browser)) == sorted(r.nodeid for r in snapshot.muted[2:4])
        Select(browser.find_element(By.ID, "filter-owner")).select_by_value("")
        Select(browser.find_element(By.ID, "filter-status")).select_by_value("open")
        assert shown(browser) == [snapshot.muted[1].nodeid]
        csv = browser.find_element(By.ID, "csv").get_attribute("href")
        assert csv == server.url + "/muted.csv?ticket_status=open"
