from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from .gitutil import commit, init_repo


@pytest.fixture(autouse=True)
def _no_token(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in (
        "GITHUB_TOKEN",
        "GRABBER_GIT_TOKEN",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GRABBER_CACHE_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    # A test that gives no --cache-dir must not fill the user's real cache directory.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A work tree with two commits on main and a `feature` branch."""
    root = init_repo(tmp_path / "repo")
    commit(
        root,
        {"tests/test_a.py": "A1\n", "pytest.ini": "[pytest]\n", "README": "x\n"},
        "one",
        date="2024-01-10T10:00:00Z",
    )
    commit(
        root,
        {"tests/test_a.py": "A2\n", "tests/test_b.py": "B\n"},
        "two",
        date="2024-01-20T10:00:00Z",
    )
    from .gitutil import git

    git(root, "branch", "feature", "HEAD~1")
    return root


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of the package logger at DEBUG (the CLI stops it from propagating)."""
    logger = logging.getLogger("xfail_grabber")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(level)
