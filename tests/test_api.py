"""xfail_grabber.api used the way a library user would: a real git repository, no click."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.source.gitutil import commit, init_repo
from xfail_grabber.api import HistoryError, SourceError, diff, history, scan

FIRST = """\
import pytest


@pytest.mark.xfail(reason="flaky upstream")
def test_one():
    pass
"""

SECOND = """\
import pytest


@pytest.mark.xfail(reason="flaky upstream")
def test_one():
    pass


@pytest.mark.xfailflake(jira="DCOS-1", reason="races")
def test_two():
    pass
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("GITHUB_TOKEN", "GRABBER_GIT_TOKEN", "GIT_DIR", "GIT_WORK_TREE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    root = init_repo(tmp_path / "repo")
    commit(root, {"tests/test_x.py": FIRST}, "one", date="2024-01-10T10:00:00Z")
    commit(root, {"tests/test_x.py": SECOND}, "two", date="2024-02-10T10:00:00Z")
    return root


def test_scan_returns_the_snapshot(repo: Path, tmp_path: Path) -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    snapshot = scan(repo, "main", cache_dir=tmp_path / "cache", workers=1)
    assert snapshot.commit == head
    assert snapshot.branch == "main"
    assert [(r.nodeid, r.kind, r.ticket) for r in snapshot.muted] == [
        ("tests/test_x.py::test_one", "xfail", None),
        ("tests/test_x.py::test_two", "xfailflake", "DCOS-1"),
    ]
    only = scan(str(repo), "main", only=["xfailflake"], cache_dir=tmp_path / "cache")
    assert [r.test for r in only.muted] == ["test_two"]
    at_first = scan(repo, "main", ref="HEAD~1", cache_dir=tmp_path / "cache")
    assert [r.test for r in at_first.muted] == ["test_one"]
    assert at_first.branch == "main"


def test_diff_between_two_refs(repo: Path, tmp_path: Path) -> None:
    result = diff(repo, "HEAD~1", "HEAD", cache_dir=tmp_path / "cache")
    assert [r.nodeid for r in result.added] == ["tests/test_x.py::test_two"]
    assert result.removed == ()
    assert result.changed == ()
    assert result.to_dict()["counts"] == {"added": 1, "removed": 0, "changed": 0}


def test_history_yields_a_snapshot_per_point(repo: Path, tmp_path: Path) -> None:
    found = list(
        history(
            repo,
            "main",
            since="2024-01-01",
            until=datetime(2024, 3, 1, tzinfo=UTC),
            every="month",
            cache_dir=tmp_path / "cache",
        )
    )
    # 2024-01-01 is before the first commit: no point; then one per month.
    assert [(s.scanned_at.date().isoformat(), len(s.muted)) for s in found] == [
        ("2024-02-01", 1),
        ("2024-03-01", 2),
    ]


def test_failures_raise_library_errors(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or directory"):
        scan(tmp_path / "missing")
    with pytest.raises(SourceError):
        scan(repo, "main", ref="no-such-ref", cache_dir=tmp_path / "cache")
    with pytest.raises(HistoryError, match="not an interval"):
        history(repo, since="2024-01-01", every="fortnight")


def test_the_library_does_not_load_click(repo: Path, tmp_path: Path) -> None:
    program = (
        "import sys\n"
        "from xfail_grabber.api import scan, diff, history\n"
        f"snapshot = scan({str(repo)!r}, 'main', cache_dir={str(tmp_path / 'c')!r}, workers=1)\n"
        "assert len(snapshot.muted) == 2, snapshot\n"
        "assert 'click' not in sys.modules, 'click was imported'\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True, timeout=120)
