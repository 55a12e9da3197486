"""-vv: where a run's time went, on stderr, after the data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.source.gitutil import commit, init_repo
from xfail_grabber.cli import main
from xfail_grabber.timings import Timings

MUTED = """\
import pytest


@pytest.mark.xfail(reason="upstream")
def test_one():
    pass
"""
PLAIN = "def test_two():\n    assert True\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("GITHUB_TOKEN", "GRABBER_GIT_TOKEN", "GRABBER_CACHE_DIR", "GRABBER_SQL_ECHO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    root = init_repo(tmp_path / "repo")
    commit(root, {"tests/test_a.py": MUTED, "tests/test_b.py": PLAIN, "tests/conftest.py": ""})
    return root


def phases(stderr: str) -> dict[str, float]:
    block = stderr.split("grabber: timings (wall clock):\n", 1)[1]
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^  (\w+) +(\d+\.\d{3}) s$", block, re.MULTILINE)
    }


def files_line(stderr: str) -> str:
    found = re.search(r"^grabber: files: (.*)$", stderr, re.MULTILINE)
    assert found is not None, stderr
    return found.group(1)


def test_vv_prints_the_phases_and_counts_after_the_data(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["dump", str(repo), "main", "--cache-dir", str(tmp_path / "cache"), "--workers", "1"]
    assert main([*args, "-vv"]) == 0
    out, err = capsys.readouterr()
    assert [r["test"] for r in json.loads(out)["muted"]] == ["test_one"]  # stdout: data only
    assert list(phases(err)) == [
        "resolve", "list", "cache", "read", "prefilter", "parse", "link", "render"
    ]  # fmt: skip
    assert all(seconds >= 0 for seconds in phases(err).values())
    assert err.rstrip("\n").endswith(files_line(err))  # the last thing printed
    assert files_line(err) == "3 listed, 0 cache hits, 3 read, 2 prefiltered out, 1 parsed"

    # Again, with the scan cache warm: nothing is read or parsed.
    assert main(["-vv", *args]) == 0
    err = capsys.readouterr().err
    assert files_line(err) == "3 listed, 3 cache hits, 0 read, 0 prefiltered out, 0 parsed"

    # Without -vv: no timings.
    assert main(args) == 0
    assert "timings" not in capsys.readouterr().err


def test_vv_times_a_push(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    assert main(["push", str(repo), "main", "--db", db, "-vv", "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert {"resolve", "parse", "push"} <= set(phases(err))
    assert "render" not in phases(err)


def test_report_lists_phases_in_flow_order_then_counts() -> None:
    timings = Timings()
    timings.add("push", 0.5)
    timings.add("resolve", 1.25)
    timings.add("resolve", 1.0)
    timings.count("parsed", 2)
    timings.count("listed", 7)
    assert timings.report() == (
        "grabber: timings (wall clock):\n"
        "  resolve     2.250 s\n"
        "  push        0.500 s\n"
        "grabber: files: 7 listed, 0 cache hits, 0 read, 0 prefiltered out, 2 parsed\n"
    )
    assert list(timings.iterate(iter("abc"), "read", "read")) == ["a", "b", "c"]
    assert timings.counts["read"] == 3
    assert "read" in timings.seconds
