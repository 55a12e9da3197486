"""A small repository with a few mutes and a policy, used by the CLI and format tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.source.gitutil import commit, init_repo

API = """import pytest


@pytest.mark.xfailflake(jira="DCOS-101", reason="upload races the cleanup", since="2026-10-01")
def test_upload():
    pass


@pytest.mark.skip
def test_download():
    pass


@pytest.mark.xfail(reason="DCOS-102 wrong rounding")
def test_rounding():
    pass


@pytest.mark.quarantined(reason="times out on ARM", since="2026-01-10")
def test_arm():
    pass
"""

LEGACY = """import pytest


@pytest.mark.skip(reason="never worked")
def test_old():
    pass
"""

PYTEST_INI = """[pytest]
markers =
    xfailflake: a known flaky test, with a ticket
"""

POLICY = """[policy]
ticket-required = "error"
reason-required = "error"
max-age = { severity = "warning", max = "90d" }
strict-xfail = "require"
forbid-kinds = ["skip"]
known-markers = "error"
budget = { max-total = 4, max-per-kind = { skip = 1 } }

[[policy.paths]]
match = "tests/legacy/**"
ticket-required = "off"
forbid-kinds = "off"
"""

# 2026-11-18: the mutes of 2026-01-10 are 312 days old.
EPOCH = "1795000000"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "example")
    commit(
        root,
        {
            "tests/test_api.py": API,
            "tests/legacy/test_old.py": LEGACY,
            "pytest.ini": PYTEST_INI,
            "grabber.toml": POLICY,
        },
    )
    return root
