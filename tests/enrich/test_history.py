"""`grabber history --blame`: every point carries owners and first_seen from its own commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xfail_grabber.cli import main

from .test_apply import make_repo
from .test_blame import git


def test_history_points_are_enriched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path)  # one commit on 2025-02-01
    (repo / ".github" / "CODEOWNERS").write_text("* @org/core\n")
    git(repo, "commit", "-qam", "owners move", when="2025-02-03T09:00:00Z")
    args = ["history", str(repo), "main", "--since", "2025-02-02", "--until", "2025-02-04"]
    code = main([*args, "--every", "day", "--blame", "--cache-dir", str(tmp_path / "c")])
    out, err = capsys.readouterr()
    assert code == 0, err
    points = [json.loads(line) for line in out.splitlines()]
    owners = [{tuple(r["owners"]) for r in p["muted"]} for p in points]
    # Points fall at midnight: the owners change lands (09:00 on the 3rd) by the 4th.
    assert owners == [{("@org/qa",)}, {("@org/qa",)}, {("@org/core",)}]
    seen = {r["first_seen"]["date"] for p in points for r in p["muted"]}
    assert seen == {"2025-02-01T09:00:00Z"}  # the marks' lines never changed
