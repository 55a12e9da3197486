"""The dashboard in headless Chromium (Debian's chromium and chromium-driver), via selenium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from xfail_grabber.model import Snapshot
from xfail_grabber.sinks.serve.app import create_app
from xfail_grabber.sinks.serve.runner import ServerThread
from xfail_grabber.sinks.serve.state import DataState

from .snapshots import XSS, small_snapshot

# scripts/test.sh installs both; a missing browser must fail the run, not skip the page tests.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
assert CHROMIUM and DRIVER, "needs chromium and chromium-driver (apt-get install)"

TREND = [
    {
        "day": f"2026-11-{d:02d}",
        "repo": "https://github.com/example/project",
        "branch": "main",
        "total": t,
        "by_kind": {},
        "by_category": {},
    }
    for d, t in ((16, 9), (17, 8), (18, 8), (19, 6), (20, 5))
]


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    monkeypatch.setenv("SE_AVOID_STATS", "true")  # selenium sends no usage statistics
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def shown(driver: Any) -> list[str]:
    return [
        row.get_attribute("data-nodeid")
        for row in driver.find_elements(By.CSS_SELECTOR, "#rows tr")
    ]


def test_dashboard(browser: Any, tmp_path: Path) -> None:
    snapshot: Snapshot = small_snapshot()
    state = DataState(lambda: snapshot, lambda s: TREND)
    state.refresh()
    app = create_app(state, info={"ticket_url": "https://jira.example.com/browse/{ticket}"})
    with ServerThread(app) as server:
        browser.get(server.url + "/")
        WebDriverWait(browser, 15).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true"
        )
        assert browser.find_element(By.ID, "total").text == "5"
        kinds = browser.find_elements(By.CSS_SELECTOR, "#by-kind li")
        assert {k.get_attribute("data-name") for k in kinds} == {
            "xfail",
            "skip",
            "skipif",
            "flaky",
            "xfailflake",
        }
        assert len(shown(browser)) == 5

        # The trend chart: one point per stored day, the line through them.
        points = browser.find_elements(By.CSS_SELECTOR, "#trend svg circle.point")
        assert [p.get_attribute("data-total") for p in points] == ["9", "8", "8", "6", "5"]
        assert browser.find_element(By.CSS_SELECTOR, "#trend svg polyline.line")

        # Scanned text is text: the reason renders literally and runs nothing.
        row = browser.find_element(By.CSS_SELECTOR, 'tr[data-nodeid$="::test_delete"]')
        assert row.find_element(By.CSS_SELECTOR, "td.reason").text == XSS
        assert browser.find_elements(By.CSS_SELECTOR, "td script") == []
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018

        # Links: http(s) tickets, the ticket template, file:line on the repository host;
        # a javascript: ticket only ever becomes an escaped part of an https link.
        link = row.find_element(By.CSS_SELECTOR, "td.ticket a")
        assert link.get_attribute("href") == "https://issues.example.com/browse/OPS-7"
        create = browser.find_element(By.CSS_SELECTOR, 'tr[data-nodeid$="::test_create"]')
        assert create.find_element(By.CSS_SELECTOR, "td.ticket a").get_attribute("href") == (
            "https://jira.example.com/browse/DCOS-123"
        )
        assert create.find_element(By.CSS_SELECTOR, "td.path a").get_attribute("href") == (
            "https://github.com/example/project/blob/"
            + str(snapshot.commit)
            + "/tests/api/test_users.py#L10"
        )
        login = browser.find_element(By.CSS_SELECTOR, 'tr[data-nodeid$="test_login[chrome]"]')
        assert login.find_element(By.CSS_SELECTOR, "td.ticket").text == "javascript:alert(2)"
        assert login.find_element(By.CSS_SELECTOR, "td.ticket a").get_attribute("href") == (
            "https://jira.example.com/browse/javascript%3Aalert(2)"
        )
        hrefs = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a")]
        assert all(h.startswith(("http://127.0.0.1:", "https://")) for h in hrefs), hrefs

        browser.save_screenshot(str(tmp_path / "dashboard.png"))

        # Filtering and sorting.
        browser.find_element(By.ID, "filter-path").send_keys("tests/ui/")
        assert len(shown(browser)) == 2
        Select(browser.find_element(By.ID, "filter-kind")).select_by_value("flaky")
        assert shown(browser) == ["tests/ui/test_login.py::test_login[chrome]"]
        assert browser.find_element(By.ID, "shown").text.startswith("1 of 5")
        csv = browser.find_element(By.ID, "csv").get_attribute("href")
        assert csv == server.url + "/muted.csv?kind=flaky&path=tests%2Fui%2F"
        browser.find_element(By.ID, "filter-path").clear()
        Select(browser.find_element(By.ID, "filter-kind")).select_by_value("")
        browser.find_element(By.ID, "filter-text").send_keys("alert(1)")
        assert shown(browser) == ["tests/api/test_users.py::test_delete"]
        browser.find_element(By.ID, "filter-text").clear()
        browser.find_element(By.CSS_SELECTOR, 'th[data-key="since"]').click()
        assert shown(browser)[:3] == [
            "tests/api/test_users.py::test_create",  # 2019-01-15
            "tests/ui/test_login.py::test_logout",  # 2024-06-30
            "tests/ui/test_login.py::test_login[chrome]",  # 2026-11-01
        ]
        browser.save_screenshot(str(tmp_path / "dashboard-sorted.png"))
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


def test_dashboard_says_when_the_first_scan_is_running(browser: Any) -> None:
    state = DataState(small_snapshot)  # never refreshed: no data yet
    with ServerThread(create_app(state)) as server:
        browser.get(server.url + "/")
        WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "notice").is_displayed())
        assert "first scan is running" in browser.find_element(By.ID, "notice").text
