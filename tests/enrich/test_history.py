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


def test_the_library_history_is_enriched_as_the_command_s(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """api.history had no enrichment at all (no owners either); now it takes scan()'s options
    and goes through the same code as `grabber history`: the same records, field by field."""
    from xfail_grabber.api import history, scan

    from .trackers import tracker

    repo = make_repo(tmp_path)  # one commit on 2025-02-01, CODEOWNERS, tickets ABC-1, ABC-2
    cache = tmp_path / "c"
    with tracker() as t:
        monkeypatch.setenv("GRABBER_JIRA_URL", t.url)
        span = {"since": "2025-02-02", "until": "2025-02-03", "every": "day"}
        points = list(history(repo, "main", blame=True, tickets=True, cache_dir=cache, **span))
        now = scan(repo, "main", blame=True, tickets=True, cache_dir=cache)
        args = ["history", str(repo), "main", "--since", span["since"], "--until", span["until"]]
        code = main([*args, "--every", "day", "--blame", "--tickets", "--cache-dir", str(cache)])
    out, err = capsys.readouterr()
    assert code == 0, err
    command = [json.loads(line)["muted"] for line in out.splitlines()]
    library = [[r.to_dict() for r in p.muted] for p in points]
    assert library == command and len(library) == 2
    records = {r["test"]: r for r in library[0]}
    assert records["test_upload"]["owners"] == ["@org/qa"]
    assert records["test_upload"]["first_seen"]["date"] == "2025-02-01T09:00:00Z"
    assert records["test_upload"]["ticket_status"] == "closed"  # ABC-2
    assert records["test_download"]["ticket_status"] == "open"  # ABC-1
    assert [r.to_dict() for r in now.muted] == [
        {**r, "age_days": now_record.age_days}
        for r, now_record in zip(library[0], now.muted, strict=True)
    ]
