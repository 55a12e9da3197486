"""The page's drill-down in headless Chromium: click a day of the trend to see that day's
muted tests and what changed since the day before, compare any two days, split the trend by
kind, switch branch, and see a new snapshot arrive without a reload. Stored snapshots live in
a real SQLite database; the refresh goes through the server's own POST /refresh."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from xfail_grabber.model import Snapshot
from xfail_grabber.sinks.db import trend
from xfail_grabber.sinks.serve.app import create_app
from xfail_grabber.sinks.serve.runner import ServerThread
from xfail_grabber.sinks.serve.state import DataState
from xfail_grabber.sinks.serve.stored import DbHistory

from .snapshots import record, small_snapshot
from .test_browser import browser, shown  # noqa: F401 - the fixture
from .test_stored import stored


def wait(driver: Any, condition: Any, timeout: float = 20) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def listed(driver: Any, list_id: str) -> list[str]:
    # Read in one script: the list may be re-rendered between two WebDriver calls.
    script = "return [...document.querySelectorAll(arguments[0])].map((li) => li.dataset.nodeid);"
    found: list[str] = driver.execute_script(script, f"#{list_id} li")
    return found


def test_drill_down_compare_split_and_live_update(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    url = stored(tmp_path)
    current: list[Snapshot] = [small_snapshot()]
    state = DataState(lambda: current[0], lambda s: trend(url, s.repo, s.branch or ""))
    state.refresh()
    app = create_app(state, info={"poll_seconds": 1}, history=DbHistory(url))
    small = small_snapshot().muted
    with ServerThread(app) as server:
        browser.get(server.url + "/")
        wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded"))
        assert browser.find_element(By.ID, "total").text == "5"
        points = browser.find_elements(By.CSS_SELECTOR, "#trend circle.point")
        assert [p.get_attribute("data-total") for p in points] == ["3", "4", "5"]

        # One click on the 19th: its four tests, and the one added since the 18th.
        browser.find_element(By.CSS_SELECTOR, '#trend rect.day-hit[data-day="2026-11-19"]').click()
        wait(browser, lambda d: d.find_element(By.ID, "viewing-day").text == "2026-11-19")
        assert browser.find_element(By.ID, "total").text == "4"
        assert len(shown(browser)) == 4
        wait(browser, lambda d: d.find_element(By.ID, "compare").is_displayed())
        assert listed(browser, "added") == [small[3].nodeid]
        assert listed(browser, "changed") == [small[1].nodeid]
        assert (
            "+1 added, −0 removed, 1 changed" in browser.find_element(By.ID, "compare-title").text
        )
        browser.save_screenshot(str(tmp_path / "drill-down.png"))

        # Any two days: the 18th against the 20th (the current snapshot).
        Select(browser.find_element(By.ID, "compare-from")).select_by_value("2026-11-18")
        Select(browser.find_element(By.ID, "compare-to")).select_by_value("2026-11-20")
        browser.find_element(By.CSS_SELECTOR, "#compare-form button").click()
        wait(browser, lambda d: len(listed(d, "added")) == 2)
        assert listed(browser, "added") == [small[3].nodeid, small[4].nodeid]
        assert listed(browser, "changed") == []

        # The trend split by kind: one stacked area and one legend entry per kind.
        Select(browser.find_element(By.ID, "split")).select_by_value("kind")
        legend = [
            li.get_attribute("data-name")
            for li in browser.find_elements(By.CSS_SELECTOR, "#trend-legend li")
        ]
        assert sorted(legend) == sorted({r.kind for r in small})
        assert len(browser.find_elements(By.CSS_SELECTOR, "#trend polygon.area.stacked")) == len(
            legend
        )

        browser.find_element(By.ID, "back").click()
        wait(browser, lambda d: not d.find_element(By.ID, "viewing").is_displayed())
        assert browser.find_element(By.ID, "total").text == "5"

        # A new snapshot lands through the server's own refresh: the page shows it by itself.
        browser.execute_script("window.notReloaded = true;")
        extra = record("tests/api/test_users.py", "test_new", 40, "skip", reason="new")
        later = small_snapshot().scanned_at + timedelta(hours=1)
        current[0] = dataclasses.replace(small_snapshot(), muted=(*small, extra), scanned_at=later)
        request = Request(server.url + "/refresh", method="POST", headers={"origin": server.url})
        with urlopen(request, timeout=10) as response:
            assert response.status == 202
        wait(browser, lambda d: d.find_element(By.ID, "total").text == "6")
        assert browser.execute_script("return window.notReloaded === true;")
        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-updates") == "1"

        # Another branch held in the database.
        assert browser.find_element(By.ID, "target-box").is_displayed()
        Select(browser.find_element(By.ID, "target")).select_by_visible_text(
            "https://github.com/example/project @ rel"
        )
        wait(browser, lambda d: d.find_element(By.ID, "total").text == "1")
        browser.save_screenshot(str(tmp_path / "other-branch.png"))
    assert (tmp_path / "drill-down.png").stat().st_size > 10_000
