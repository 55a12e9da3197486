"""The dashboard with a hostile reason (issue 9, item 7): a 10 MB unbroken reason renders at
once (clipped, the full text on demand). Headless Chromium, as in tests/serve/test_browser.py."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from xfail_grabber.sinks.serve.app import create_app
from xfail_grabber.sinks.serve.runner import ServerThread
from xfail_grabber.sinks.serve.state import DataState

from ..serve.snapshots import small_snapshot
from ..serve.test_browser import browser  # noqa: F401 (the fixture)

HUGE = "x" * 10_000_000
LONG = "word " * 1000


def test_a_10_mb_reason_renders_clipped_and_in_full_on_demand(browser: Any) -> None:  # noqa: F811
    small = small_snapshot()
    muted = list(small.muted)
    muted[0] = dataclasses.replace(muted[0], reason=HUGE)
    muted[1] = dataclasses.replace(muted[1], reason=LONG)
    snapshot = dataclasses.replace(small, muted=tuple(muted))
    state = DataState(lambda: snapshot)
    state.refresh()
    with ServerThread(create_app(state)) as server:
        started = time.monotonic()
        browser.get(server.url + "/")
        WebDriverWait(browser, 60).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true"
        )
        # Laid out too: the table's size is known (this forces layout; it froze for minutes).
        height = browser.execute_script("return document.getElementById('rows').offsetHeight")
        seconds = time.monotonic() - started
        assert height > 0
        assert seconds < 10, seconds  # 0.44 s here, the 10 MB download included

        def reason_cell(nodeid: str) -> Any:
            return browser.find_element(By.CSS_SELECTOR, f'tr[data-nodeid="{nodeid}"] td.reason')

        huge = reason_cell(muted[0].nodeid)
        assert huge.text.startswith("x" * 300 + "…")
        assert "show all 10,000,000 characters" in huge.text
        assert len(huge.text) < 400
        # The full text, on demand.
        cell = reason_cell(muted[1].nodeid)
        cell.find_element(By.CSS_SELECTOR, "button.more").click()
        full = cell.find_element(By.CSS_SELECTOR, ".full")
        assert browser.execute_script("return arguments[0].textContent", full) == LONG
