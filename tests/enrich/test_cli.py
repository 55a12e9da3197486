"""`grabber dump REPO --blame --tickets` as a user runs it: owners, real age, ticket status,
the token kept secret, a tracker that is down, and bad settings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from xfail_grabber.cli import main
from xfail_grabber.enrich.settings import NO_TRACKER

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


def grabber_process(
    args: list[str], tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRABBER_")}
    environment.update(GRABBER_CACHE_DIR=str(tmp_path / "cache"), **env)
    return subprocess.run(
        [sys.executable, "-m", "xfail_grabber", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )


def test_tickets_without_a_tracker_say_so_once(tmp_path: Path) -> None:
    """--tickets with no tracker configured left ticket_status null without a word; now one
    line says so and how to configure one, once per run (history: many points, one line)."""
    repo = make_repo(tmp_path)  # tickets ABC-2 (Jira) and ABC-1 in a reason
    note = f"grabber: {NO_TRACKER}\n"
    dumped = grabber_process(["dump", str(repo), "--tickets"], tmp_path)
    assert (dumped.returncode, dumped.stderr) == (0, note)
    assert {r["ticket_status"] for r in json.loads(dumped.stdout)["muted"]} == {None}
    span = ["--since", "2025-02-02", "--until", "2025-02-05", "--every", "day"]
    history = grabber_process(["history", str(repo), "main", *span, "--tickets"], tmp_path)
    assert (history.returncode, history.stderr) == (0, note)
    assert len(history.stdout.splitlines()) == 4
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(f'[defaults]\ntickets = true\n\n[[repos]]\nurl = "file://{repo}"\n')
    fleet_run = grabber_process(["dump", "--config", str(fleet), "--jobs", "1"], tmp_path)
    assert fleet_run.returncode == 0, fleet_run.stderr
    assert fleet_run.stderr.startswith(note)
    assert fleet_run.stderr.count(NO_TRACKER) == 1


@pytest.mark.parametrize("how", ["environment", "config", "no --tickets"])
def test_no_note_with_a_tracker_or_without_tickets(tmp_path: Path, how: str) -> None:
    repo = make_repo(tmp_path)
    args = ["dump", str(repo), "--tickets"]
    env = {}
    if how == "environment":
        env["GRABBER_JIRA_URL"] = "http://127.0.0.1:9"  # nothing listens: unknown, one warning
    elif how == "config":
        toml = config(tmp_path, '[tickets]\nbugzilla_url = "http://127.0.0.1:9"\n')
        args += ["--config", str(toml)]
    else:
        args.remove("--tickets")
    done = grabber_process(args, tmp_path, **env)
    assert done.returncode == 0, done.stderr
    assert NO_TRACKER not in done.stderr
