"""The page in headless Chromium: the dynamic mute sites line with its list in a details
element, and a second source link for a mark inherited from a base class in another file."""

from __future__ import annotations

import dataclasses
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from xfail_grabber.model import DynamicSite, Snapshot
from xfail_grabber.sinks.serve.app import create_app
from xfail_grabber.sinks.serve.runner import ServerThread
from xfail_grabber.sinks.serve.state import DataState

from .snapshots import XSS, small_snapshot
from .test_browser import browser  # noqa: F401 - the fixture

SITES = (
    DynamicSite("conftest.py", 8, "xfail", "pytest_collection_modifyitems"),
    DynamicSite("tests/conftest.py", 13, XSS, "quarantine"),
)
BLOB = "https://github.com/example/project/blob/0123456789abcdef0123456789abcdef01234567/"


def loaded(driver: Any, snapshot: Snapshot) -> ServerThread:
    state = DataState(lambda: snapshot)
    state.refresh()
    server = ServerThread(create_app(state)).start()
    driver.get(server.url + "/")
    WebDriverWait(driver, 15).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true"
    )
    return server


def test_dynamic_sites_and_mark_path_on_the_page(browser: Any) -> None:  # noqa: F811
    full = small_snapshot()
    inherited = dataclasses.replace(full.muted[0], mark_path="tests/api/base.py", mark_line=4)
    snapshot = dataclasses.replace(full, muted=(inherited, *full.muted[1:]), dynamic=SITES)
    server = loaded(browser, snapshot)
    try:
        box = browser.find_element(By.ID, "dynamic")
        assert box.tag_name == "details" and box.is_displayed()
        summary = browser.find_element(By.ID, "dynamic-summary")
        assert summary.text == "2 dynamic mute sites: hooks may mute more tests at run time"
        items = browser.find_elements(By.CSS_SELECTOR, "#dynamic-list li")
        assert not items[0].is_displayed()  # folded until asked for
        summary.click()
        WebDriverWait(browser, 5).until(lambda d: items[0].is_displayed())
        assert [i.text for i in items] == [
            "conftest.py:8 xfail in pytest_collection_modifyitems",
            f"tests/conftest.py:13 {XSS} in quarantine",
        ]
        assert browser.find_elements(By.CSS_SELECTOR, "#dynamic-list script") == []
        link = items[1].find_element(By.TAG_NAME, "a")
        assert link.get_attribute("href") == BLOB + "tests/conftest.py#L13"

        # The inherited mark: the test's own file:line, then where the mark is written.
        row = browser.find_element(By.CSS_SELECTOR, f'tr[data-nodeid="{inherited.nodeid}"]')
        links = row.find_elements(By.CSS_SELECTOR, "td.path a")
        assert [a.text for a in links] == [
            f"{inherited.path}:{inherited.line}",
            "tests/api/base.py:4",
        ]
        assert links[1].get_attribute("href") == BLOB + "tests/api/base.py#L4"
        assert row.find_element(By.CSS_SELECTOR, ".mark-path").text == "mark: tests/api/base.py:4"
        other = browser.find_element(By.CSS_SELECTOR, f'tr[data-nodeid="{full.muted[1].nodeid}"]')
        assert other.find_elements(By.CSS_SELECTOR, ".mark-path") == []
    finally:
        server.stop()


def test_no_sites_no_line(browser: Any) -> None:  # noqa: F811
    server = loaded(browser, small_snapshot())
    try:
        assert not browser.find_element(By.ID, "dynamic").is_displayed()
        one = small_snapshot(dynamic=SITES[:1])
        server.stop()
        server = loaded(browser, one)
        assert browser.find_element(By.ID, "dynamic-summary").text == (
            "1 dynamic mute site: hooks may mute more tests at run time"
        )
    finally:
        server.stop()
