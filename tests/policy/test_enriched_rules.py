"""The rules that use enrichment: closed-ticket, owner-required, max-age from git blame."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xfail_grabber.cli import main
from xfail_grabber.model import FirstSeen
from xfail_grabber.policy.rules import RULES

from ..enrich.test_apply import make_repo
from ..enrich.test_blame import git
from ..enrich.trackers import tracker
from .test_rules import CONTEXT, record


def check(rule: str, options: dict[str, object] | None = None, **fields: object) -> str | None:
    found = RULES[rule]
    defaults = {o.name: o.default for o in found.options}
    assert found.check_record is not None
    return found.check_record(record(**fields), {**defaults, **(options or {})}, CONTEXT)


def test_closed_ticket() -> None:
    assert check("closed-ticket", ticket_status="closed", ticket_title="Fixed") == (
        "skip mute of test_a: ticket ABC-1 is closed (Fixed)"
    )
    assert check("closed-ticket", ticket_status="open") is None
    assert check("closed-ticket", ticket_status="unknown") is None
    assert check("closed-ticket") is None  # not looked up


def test_owner_required() -> None:
    assert check("owner-required") == "skip mute of test_a has no owner in CODEOWNERS"
    assert check("owner-required", owners=("@org/qa",)) is None
    assert check("owner-required", category="conditional") is None
    assert check("owner-required", {"categories": ("conditional",)}, category="conditional")


def test_max_age_counts_from_blame_without_since() -> None:
    seen = FirstSeen("c" * 40, datetime(2025, 1, 1, tzinfo=UTC), "Ada")
    assert check("max-age", since=None, first_seen=seen) == (
        "muted for 516 days (since 2025-01-01; max 90 days)"
    )
    assert check("max-age", since="2026-05-01", first_seen=seen) is None  # since wins
    assert check("max-age", since=None) is None


def test_check_with_blame_and_tickets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    (repo / ".github" / "CODEOWNERS").write_text("docs/ @org/docs\n")  # tests/ has no owner
    git(repo, "commit", "-qam", "owners", when="2025-02-02T09:00:00Z")
    with tracker() as t:
        toml = tmp_path / "grabber.toml"
        toml.write_text(
            f'[tickets]\njira_url = "{t.url}"\n\n[policy]\nclosed-ticket = "error"\n'
            'owner-required = "warning"\nmax-age = { max = "30d", severity = "error" }\n'
        )
        args = ["check", str(repo), "main", "--tickets", "--blame", "--config", str(toml)]
        code = main([*args, "--format", "json", "--cache-dir", str(tmp_path / "c")])
    out, err = capsys.readouterr()
    assert code == 3, err
    found = sorted((f["rule"], f["severity"]) for f in json.loads(out)["findings"])
    # max-age twice: test_upload by its since (2019), test_download by blame (2025-02-01).
    assert found == [
        ("closed-ticket", "error"),
        ("max-age", "error"),
        ("max-age", "error"),
        ("owner-required", "warning"),
        ("owner-required", "warning"),
    ]
