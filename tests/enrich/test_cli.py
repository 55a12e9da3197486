"""`grabber dump REPO --blame --tickets` as a user runs it: owners, real age, ticket status,
the token kept secret, a tracker that is down, and bad settings."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from xfail_grabber.cli import main

from .test_apply import make_repo
from .trackers import tracker

TOKEN = "jira-pat-0123456789abcdef"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "grabber.toml"
    path.write_text(body)
    return path


def test_dump_blame_tickets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    monkeypatch.setenv("JIRA_TOKEN", TOKEN)
    cache = tmp_path / "cache"
    with tracker() as t:
        toml = config(tmp_path, f'[tickets]\njira_url = "{t.url}"\n')
        args = ["dump", str(repo), "main", "--blame", "--tickets", "--config", str(toml)]
        code, out, err = run([*args, "--cache-dir", str(cache), "-vv"], capsys)
        assert code == 0, err
        seen = [h.get("authorization") for p, h in t.log]
    records = {r["test"]: r for r in json.loads(out)["muted"]}
    upload = records["test_upload"]
    assert upload["owners"] == ["@org/qa"]
    assert upload["first_seen"]["author"] == "Ada" and upload["age_days"] >= 0
    assert (upload["ticket_status"], upload["stale"], upload["since_mismatch"]) == (
        "closed",
        True,
        True,
    )
    assert records["test_download"]["ticket_status"] == "open"
    assert seen == [f"Bearer {TOKEN}"] * 2
    assert TOKEN not in out + err
    for path in cache.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_without_the_flags_only_owners_are_added(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    code, out, _ = run(["dump", str(repo), "main", "--cache-dir", str(tmp_path / "c")], capsys)
    assert code == 0
    record = json.loads(out)["muted"][0]
    assert record["owners"] == ["@org/qa"]
    assert (record["first_seen"], record["ticket_status"], record["stale"]) == (None, None, None)


def test_a_tracker_that_is_down_never_fails_the_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    toml = config(tmp_path, f'[tickets]\njira_url = "{closed}"\n')
    args = ["dump", str(repo), "main", "--tickets", "--config", str(toml)]
    code, out, err = run([*args, "--cache-dir", str(tmp_path / "c")], capsys)
    assert code == 0
    assert {r["ticket_status"] for r in json.loads(out)["muted"]} == {"unknown"}
    assert err.strip().splitlines() == [f"grabber: ticket lookup: {closed}: URLError"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[tickets]\njira = "https://j"\n', ":2: tickets.jira: unknown key"),
        ("[tickets]\njira_url = 5\n", ":2: tickets.jira_url: expected an http(s) URL"),
        (
            '[tickets]\njira_url = "https://me:pw@jira.example.com"\n',
            ":2: tickets.jira_url: put credentials in the environment",
        ),
        ('[enrich]\nblame = "yes"\n', ":2: enrich.blame: must be true or false"),
        ('\n[enrich]\nsince_tolerance = "a month"\n', ":3: enrich.since_tolerance: expected"),
    ],
)
def test_bad_settings_are_one_line_naming_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, message: str
) -> None:
    repo = make_repo(tmp_path)
    toml = config(tmp_path, body)
    code, out, err = run(["dump", str(repo), "--config", str(toml)], capsys)
    assert code == 2 and out == ""
    assert f"{toml}{message}" in err.strip().splitlines()[-1]
    assert "Traceback" not in err
    assert "me:pw" not in err


def test_blame_on_a_url_fetches_the_history_it_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    text = (repo / "tests" / "test_io.py").read_text() + "\n# later\n"
    (repo / "tests" / "test_io.py").write_text(text)
    from .test_blame import git

    git(repo, "commit", "-qam", "later", when="2025-06-01T09:00:00Z")
    git(repo, "config", "uploadpack.allowFilter", "true")  # else file:// ignores --filter
    cache = tmp_path / "cache"
    args = ["dump", f"file://{repo}", "main", "--blame", "--cache-dir", str(cache)]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert list(cache.rglob("*.promisor")), "the clone cache is a partial clone"
    records = json.loads(out)["muted"]
    # The marks were written in the first commit: blame needed that commit's blob too.
    assert {r["first_seen"]["date"] for r in records} == {"2025-02-01T09:00:00Z"}
