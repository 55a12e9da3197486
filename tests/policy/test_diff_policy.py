"""`grabber diff` with the policy: "+2 mutes, 1 without a ticket" in json and markdown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xfail_grabber.cli import main

from ..source.gitutil import commit, git

NEW = """import pytest


@pytest.mark.skip(reason="DCOS-7 flaky upstream")
def test_one():
    pass


@pytest.mark.skip(reason="broken")
def test_two():
    pass
"""


@pytest.fixture
def branch(example: Path) -> Path:
    (example / "grabber.toml").write_text('[policy]\nticket-required = "error"\n')
    git(example, "commit", "-qam", "policy")
    git(example, "branch", "base")
    commit(example, {"tests/test_new.py": NEW, "tests/legacy/test_old.py": None})
    return example


def diff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def test_markdown_summary(branch: Path, capsys) -> None:
    code, out = diff(capsys, str(branch), "base", "main", "--format", "markdown")
    assert code == 0
    assert "\n**Policy:** +2 mutes, 1 removed, 1 without a ticket.\n" in out
    assert out.endswith(
        "#### Policy\n\n| severity | where | rule | message |\n|---|---|---|---|\n"
        "| error | `tests/test_new.py:9` | ticket-required | "
        "skip mute of test_two has no ticket |\n"
    )


def test_json_verdict_and_the_same_policy_as_check(branch: Path, tmp_path: Path, capsys) -> None:
    _, out = diff(capsys, str(branch), "base", "main")
    verdict = json.loads(out)["policy"]
    assert verdict["summary"] == "+2 mutes, 1 removed, 1 without a ticket"
    assert (verdict["source"], verdict["errors"], verdict["warnings"]) == ("grabber.toml", 1, 0)
    assert [f["nodeid"] for f in verdict["findings"]] == ["tests/test_new.py::test_two"]
    # --config wins over the repository's file, and budget rules compare with BASE.
    other = tmp_path / "other.toml"
    other.write_text('[policy]\nbudget = { no-increase = true }\nforbid-kinds = ["skip"]\n')
    _, out = diff(capsys, str(branch), "base", "main", "--config", str(other))
    assert json.loads(out)["policy"]["summary"] == (
        "+2 mutes, 1 removed, 2 of a forbidden kind, 6 muted tests, up from 5 at the baseline"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy]\nmax-age = 3\n")
    assert main(["diff", str(branch), "base", "main", "--config", str(bad)]) == 2


def test_nothing_added(branch: Path, capsys) -> None:
    _, out = diff(capsys, str(branch), "main", "main", "--format", "markdown")
    assert "\n**Policy:** +0 mutes.\n" in out
