from __future__ import annotations

import threading
import time

from xfail_grabber.model import Snapshot
from xfail_grabber.sinks.serve.state import DataState, Refresher

from .conftest import StartServer
from .snapshots import small_snapshot


def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_requests_never_wait_for_a_slow_scan(start_server: StartServer) -> None:
    release = threading.Event()

    def slow_scan() -> Snapshot:
        release.wait(10)
        return small_snapshot()

    server = start_server(slow_scan, refresh=False)
    refresher = Refresher(server.state, interval=None)
    refresher.start()
    try:
        started = time.monotonic()
        reply = server.get("/redash")
        assert reply.status == 503
        assert time.monotonic() - started < 1.0
        assert server.get("/healthz").json()["refreshing"] is True
        release.set()
        wait_for(lambda: server.get("/redash").status == 200)
    finally:
        release.set()
        refresher.stop()


def test_a_failed_refresh_keeps_the_last_good_data(start_server: StartServer) -> None:
    outcomes: list[object] = [small_snapshot(), RuntimeError("clone failed: host unreachable")]

    def provider() -> Snapshot:
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, Snapshot)
        return outcome

    server = start_server(provider)
    good = server.get("/redash").body
    refresh = server.request("/refresh", method="POST")
    assert refresh.status == 202
    assert server.get("/redash").body == good
    health = server.get("/healthz")
    assert health.status == 200
    assert health.json()["status"] == "stale"
    assert health.json()["last_error"] == "RuntimeError: clone failed: host unreachable"
    metrics = server.get("/metrics").text.splitlines()
    assert "grabber_last_refresh_ok 0" in metrics
    assert "grabber_refresh_failures_total 1" in metrics
    assert "grabber_muted_tests_total" in server.get("/metrics").text


def test_a_first_scan_that_fails_says_so(start_server: StartServer) -> None:
    def broken() -> Snapshot:
        raise OSError("repository not found")

    server = start_server(broken)
    reply = server.get("/api/muted")
    assert reply.status == 503
    assert "repository not found" in reply.json()["error"]
    assert server.get("/healthz").json()["status"] == "failing"


def test_refresher_runs_on_a_timer_and_on_wake() -> None:
    scans: list[int] = []

    def counting() -> Snapshot:
        scans.append(1)
        return small_snapshot()

    state = DataState(counting)
    refresher = Refresher(state, interval=0.2)
    refresher.start()
    try:
        wait_for(lambda: len(scans) >= 3)
    finally:
        refresher.stop()
    assert state.view is not None

    scans.clear()
    manual = Refresher(DataState(counting), interval=0)
    manual.start()
    try:
        wait_for(lambda: len(scans) == 1)
        time.sleep(0.3)
        assert len(scans) == 1  # no timer
        manual.wake()
        wait_for(lambda: len(scans) == 2)
    finally:
        manual.stop()


def test_post_refresh_wakes_the_refresher(start_server: StartServer) -> None:
    woken = threading.Event()
    server = start_server(on_refresh=woken.set)
    assert server.request("/refresh", method="POST").status == 202
    assert woken.is_set()
