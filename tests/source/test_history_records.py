"""`grabber history` gives, at each point, the records `grabber dump` gives for that commit:
ticket links (they depend on REPOSITORY, added per snapshot), CODEOWNERS owners, def_path and
mark_path of tests inherited across files, whether the point's scan was updated from the one
before (a changed file), made afresh (pytest configuration changed) or reused.

A small real git history with tickets in marks is walked both by the CLI (which enriches every
point) and by the library's `scan_history` alone (what a fleet's history uses); both are
compared field by field with a fresh dump of each commit.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from xfail_grabber.cli import main
from xfail_grabber.config import Settings
from xfail_grabber.core import snapshot_of
from xfail_grabber.history import scan_history
from xfail_grabber.source.open import open_git, open_source

from .gitutil import commit, git, init_repo

BASES = """import pytest


class Base:
    @pytest.mark.xfail(reason="hangs: https://bugs.example.org/show_bug.cgi?id={n}")
    def test_base(self):
        pass
"""
TESTS = """import pytest

from tests.bases import Base


class TestA(Base):
    pass


@pytest.mark.xfailflake(jira="https://jira.example.org/browse/NET-{n}", reason="flaky")
def test_url():
    pass


@pytest.mark.skip(reason="bpo-{bpo}: broken upstream")
def test_bpo():
    pass


@pytest.mark.xfail(reason="no ticket")
def test_plain():
    pass
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Four commits: the tests; CODEOWNERS and a ticket changed; only the base file changed
    (an updated scan); a pytest.ini added (a fresh scan)."""
    root = init_repo(tmp_path / "repo")
    files: dict[str, str | None] = {
        "tests/__init__.py": "",
        "tests/bases.py": BASES.format(n=11),
        "tests/test_a.py": TESTS.format(n=1, bpo=100),
    }
    commit(root, files, date="2024-01-01T12:00:00Z")
    commit(
        root,
        {"CODEOWNERS": "tests/ @org/qa\n", "tests/test_a.py": TESTS.format(n=2, bpo=100)},
        date="2024-01-02T12:00:00Z",
    )
    commit(root, {"tests/bases.py": BASES.format(n=12)}, date="2024-01-03T12:00:00Z")
    commit(
        root,
        {"pytest.ini": "[pytest]\n", "tests/test_a.py": TESTS.format(n=2, bpo=200)},
        date="2024-01-04T12:00:00Z",
    )
    return root


def dumped(root: Path, sha: str, cache: Path, capsys: pytest.CaptureFixture[str]) -> list[Any]:
    code = main(["dump", str(root), "main", "--ref", sha, "--cache-dir", str(cache)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return list(json.loads(out)["muted"])


def same_records(found: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert [(r["nodeid"], r["kind"]) for r in found] == [(r["nodeid"], r["kind"]) for r in expected]
    for got, want in zip(found, expected, strict=True):
        assert list(got) == list(want)
        for key in want:
            assert got[key] == want[key], (want["nodeid"], want["kind"], key)


def links(records: list[dict[str, Any]]) -> dict[str, str | None]:
    return {r["test"]: r["ticket_url"] for r in records}


def test_history_records_equal_dump_records_at_each_point(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "history",
            str(repo),
            "main",
            "--since",
            "2024-01-01T13:00:00Z",
            "--until",
            "2024-01-04T13:00:00Z",
            "--every",
            "day",
            "--cache-dir",
            str(tmp_path / "history-cache"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    points = [json.loads(line) for line in out.splitlines()]
    commits = git(repo, "log", "--reverse", "--format=%H").split()
    assert [p["commit"] for p in points] == commits
    dumps = []
    for n, point in enumerate(points):
        expected = dumped(repo, point["commit"], tmp_path / f"fresh-{n}", capsys)
        same_records(point["muted"], expected)
        dumps.append(expected)
    # What the comparison covers: links from every kind of ticket, owners once CODEOWNERS
    # exists, an inherited test's def_path.
    assert links(dumps[0]) == {
        "TestA::test_base": "https://bugs.example.org/show_bug.cgi?id=11",
        "test_bpo": "https://bugs.python.org/issue100",
        "test_plain": None,
        "test_url": "https://jira.example.org/browse/NET-1",
    }
    assert links(dumps[3]) == {
        "TestA::test_base": "https://bugs.example.org/show_bug.cgi?id=12",
        "test_bpo": "https://bugs.python.org/issue200",
        "test_plain": None,
        "test_url": "https://jira.example.org/browse/NET-2",
    }
    assert [{tuple(r["owners"]) for r in d} for d in dumps] == [{()}] + [{("@org/qa",)}] * 3
    inherited = [r for r in dumps[2] if r["test"] == "TestA::test_base"]
    assert [(r["def_path"], r["mark_path"]) for r in inherited] == [
        ("tests/bases.py", "tests/bases.py")
    ]


def test_the_library_history_gives_what_a_scan_of_the_commit_gives(
    repo: Path, tmp_path: Path
) -> None:
    """scan_history without the command's enrichment (a fleet's history): links and owners
    are there all the same."""
    stamps = git(repo, "log", "--reverse", "--format=%ct").split()
    moments = [datetime.fromtimestamp(int(s), UTC) + timedelta(seconds=1) for s in stamps]
    found = list(
        scan_history(open_git(str(repo)), "main", moments, Settings(), cache_dir=tmp_path / "c")
    )
    assert len(found) == 4
    for _, snapshot in found:
        assert snapshot.commit is not None
        with open_source(str(repo), "main", snapshot.commit) as checkout:
            fresh = snapshot_of(checkout, Settings(), cache=None)
        same_records([r.to_dict() for r in snapshot.muted], [r.to_dict() for r in fresh.muted])
        assert any(r.ticket_url for r in snapshot.muted)
    assert found[-1][1].muted[0].owners == ("@org/qa",)
