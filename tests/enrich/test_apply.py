"""Enrichment end to end on a real git repository: a scan, then owners, blame and tickets
(against the loopback tracker stand-in)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from xfail_grabber.config import build_settings
from xfail_grabber.core import snapshot_of
from xfail_grabber.enrich.apply import Enrichment, blame_and_tickets, where_of
from xfail_grabber.enrich.tickets.refs import Trackers
from xfail_grabber.model import snapshot_schema
from xfail_grabber.sinks.formats import render_json
from xfail_grabber.source.open import open_source

from .test_blame import git
from .trackers import tracker

TEST = """\
import pytest


@pytest.mark.xfailflake(jira="ABC-2", since="2019-01-15")
def test_upload():
    pass


@pytest.mark.skip(reason="see ABC-1")
def test_download():
    pass
"""


def make_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / ".github").mkdir()
    (repo / ".github" / "CODEOWNERS").write_text("* @org/core\ntests/ @org/qa\n")
    (repo / "tests" / "test_io.py").write_text(TEST)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "mute", when="2025-02-01T09:00:00Z")
    return repo


def test_owners_blame_and_tickets_on_a_real_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    settings = build_settings()
    with tracker() as t:
        options = Enrichment(
            blame=True,
            tickets=True,
            trackers=Trackers(jira_url=t.url),
            cache_dir=tmp_path / "cache",
        )
        with open_source(str(repo), "main", None, cache_dir=tmp_path / "cache") as checkout:
            snapshot = snapshot_of(checkout, settings)
            enriched = blame_and_tickets(snapshot, where_of(checkout), options)
    by_test = {r.test: r for r in enriched.muted}
    upload, download = by_test["test_upload"], by_test["test_download"]
    assert upload.owners == download.owners == ("@org/qa",)
    assert upload.first_seen is not None and upload.first_seen.author == "Ada"
    assert upload.first_seen.date.isoformat().startswith("2025-02-01")
    assert upload.since_mismatch is True  # declared 2019, written 2025
    assert download.since_mismatch is None  # no since
    assert (upload.ticket_status, upload.ticket_title, upload.stale) == (
        "closed",
        "Fixed the race",
        True,
    )
    assert (download.ticket_status, download.stale) == ("open", False)
    jsonschema.validate(json.loads(render_json(enriched)), snapshot_schema())


def test_blame_of_an_inherited_mark_reads_the_base_file(tmp_path: Path) -> None:
    """mark_line of a mark inherited from another file is a line of mark_path: blamed there."""
    fixture = Path(__file__).parent.parent / "fixtures" / "mark_path" / "tests"
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for name, when in (
        ("bases.py", "2024-03-01T09:00:00Z"),
        ("test_derived.py", "2025-05-05T09:00:00Z"),
    ):
        (repo / "tests" / name).write_bytes((fixture / name).read_bytes())
        git(repo, "add", ".")
        git(repo, "commit", "-qm", name, when=when)
    with open_source(str(repo), "main", None, cache_dir=tmp_path / "cache") as checkout:
        snapshot = snapshot_of(checkout, build_settings())
        enriched = blame_and_tickets(snapshot, where_of(checkout), Enrichment(blame=True))
    seen = {
        (r.test, r.kind): (r.mark_path, r.first_seen.date.date().isoformat())
        for r in enriched.muted
        if r.first_seen is not None
    }
    assert seen[("TestMethods::test_method", "xfail")] == ("tests/bases.py", "2024-03-01")
    assert seen[("TestMethods::test_method", "skipif")] == (None, "2025-05-05")
    assert seen[("TestSetup::test_here", "imperative-skip")] == ("tests/bases.py", "2024-03-01")
    assert len(seen) == len(enriched.muted)
