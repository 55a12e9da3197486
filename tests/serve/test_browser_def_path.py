"""The page in headless Chromium: a test method inherited from a base class in another file
is linked at its def, `def_path:line`, not at `path:line` (a line of another file)."""

from __future__ import annotations

import dataclasses
from typing import Any

from selenium.webdriver.common.by import By

from .snapshots import small_snapshot
from .test_browser import browser  # noqa: F401 - the fixture
from .test_browser_dynamic import BLOB, loaded


def test_the_main_link_points_at_the_def(browser: Any) -> None:  # noqa: F811
    full = small_snapshot()
    inherited = dataclasses.replace(
        full.muted[0], def_path="tests/api/base.py", line=14, mark_path="tests/api/base.py",
        mark_line=13,
    )  # fmt: skip
    own = full.muted[1]
    server = loaded(browser, dataclasses.replace(full, muted=(inherited, *full.muted[1:])))
    try:
        row = browser.find_element(By.CSS_SELECTOR, f'tr[data-nodeid="{inherited.nodeid}"]')
        links = row.find_elements(By.CSS_SELECTOR, "td.path a")
        assert [(a.text, a.get_attribute("href")) for a in links] == [
            ("tests/api/base.py:14", BLOB + "tests/api/base.py#L14"),
            ("tests/api/base.py:13", BLOB + "tests/api/base.py#L13"),
        ]
        other = browser.find_element(By.CSS_SELECTOR, f'tr[data-nodeid="{own.nodeid}"]')
        first = other.find_element(By.CSS_SELECTOR, "td.path a")
        assert own.def_path is None
        assert (first.text, first.get_attribute("href")) == (
            f"{own.path}:{own.line}",
            BLOB + f"{own.path}#L{own.line}",
        )
    finally:
        server.stop()
