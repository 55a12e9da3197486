"""The fleet honours --blame and --tickets, and `blame` / `tickets` in [defaults] and [[repos]]
(it applied owners only): real repositories behind file:// URLs, the loopback Jira."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xfail_grabber.cli import main
from xfail_grabber.fleet import FleetFileError, load_fleet

from ..enrich.trackers import tracker
from ..source.gitutil import commit, init_repo
from .conftest import write_fleet

MUTED = """\
import pytest


@pytest.mark.xfailflake(jira="ABC-2", reason="race")
def test_{name}():
    pass
"""


def make(root: Path, name: str) -> Path:
    init_repo(root)
    commit(
        root,
        {"tests/test_a.py": MUTED.format(name=name), "CODEOWNERS": "* @org/team\n"},
        date="2025-02-01T09:00:00Z",
    )
    return root


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    a, b = make(tmp_path / "a", "a"), make(tmp_path / "b", "b")
    return write_fleet(
        tmp_path / "fleet.toml",
        "[defaults]\nblame = true\n\n"
        f'[[repos]]\nurl = "file://{a}"\ntickets = true\n\n'
        f'[[repos]]\nurl = "file://{b}"\nblame = false\n',
    )


def dump(capsys: pytest.CaptureFixture[str], fleet: Path, *args: str) -> dict[str, dict]:
    """repository name -> its one record, from `grabber dump --config FLEET`."""
    cache = fleet.parent / "cache"
    code = main(["dump", "--config", str(fleet), "--cache-dir", str(cache), "--jobs", "1", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    snapshots = [json.loads(line) for line in out.splitlines()]
    return {s["repo"].rsplit("/", 1)[-1]: s["muted"][0] for s in snapshots}


def test_the_fleet_file_s_blame_and_tickets_and_the_flags_over_them(
    capsys: pytest.CaptureFixture[str], fleet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tracker() as jira:
        monkeypatch.setenv("GRABBER_JIRA_URL", jira.url)
        records = dump(capsys, fleet)
        # a: blame from [defaults], tickets of its own; b: blame off, no tickets.
        assert records["a"]["first_seen"]["date"] == "2025-02-01T09:00:00Z"
        assert (records["a"]["ticket_status"], records["a"]["stale"]) == ("closed", True)
        assert records["b"]["first_seen"] is None and records["b"]["ticket_status"] is None
        assert records["a"]["owners"] == records["b"]["owners"] == ["@org/team"]
        # The command line wins over the file, for every repository.
        flagged = dump(capsys, fleet, "--no-blame", "--tickets")
        assert [flagged[n]["first_seen"] for n in "ab"] == [None, None]
        assert [flagged[n]["ticket_status"] for n in "ab"] == ["closed", "closed"]


def test_history_of_a_fleet_is_enriched_too(
    capsys: pytest.CaptureFixture[str], fleet: Path
) -> None:
    code = main(
        ["history", "--config", str(fleet), "--since", "2025-02-02", "--until", "2025-02-02",
         "--cache-dir", str(fleet.parent / "cache"), "--jobs", "1"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    points = {
        json.loads(line)["repo"].rsplit("/", 1)[-1]: json.loads(line) for line in out.splitlines()
    }
    assert points["a"]["muted"][0]["first_seen"]["commit"]
    assert points["a"]["muted"][0]["owners"] == ["@org/team"]
    assert points["b"]["muted"][0]["first_seen"] is None


def test_the_enrichment_tables_and_keys_are_checked_like_the_rest(tmp_path: Path) -> None:
    entry = '[[repos]]\nurl = "https://h/o/r"\n'
    cases = {
        entry + 'blame = "yes"\n': "FILE:3: key 'blame' in [[repos]] #1: must be true or false",
        "[defaults]\ntickets = 1\n" + entry: (
            "FILE:2: key 'tickets' in [defaults]: must be true or false"
        ),
        entry + "[enrich]\nblam = true\n": (
            "FILE:4: enrich.blam: unknown key (known: blame, tickets, since_tolerance)"
        ),
        entry + '[tickets]\njira_url = "ftp://j"\n': (
            "FILE:4: tickets.jira_url: expected an http(s) URL"
        ),
    }
    for text, message in cases.items():
        path = write_fleet(tmp_path / "fleet.toml", text)
        with pytest.raises(FleetFileError) as info:
            load_fleet(path)
        assert str(info.value).replace(str(path), "FILE") == message
    good = load_fleet(write_fleet(tmp_path / "fleet.toml", entry + "[enrich]\nblame = true\n"))
    assert good.enrichment_for(good.repos[0]).blame is True
    assert good.enrichment_for(good.repos[0], blame=False).blame is False


def test_a_bad_key_is_a_usage_error_on_the_command_line(tmp_path: Path) -> None:
    path = write_fleet(tmp_path / "fleet.toml", '[[repos]]\nurl = "https://h/o/r"\nblame = 1\n')
    done = subprocess.run(
        [sys.executable, "-m", "xfail_grabber", "dump", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GRABBER_CACHE_DIR": str(tmp_path / "c")},
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"Error: {path}:3: key 'blame' in [[repos]] #1: must be true or false\n"
