"""`grabber check` end to end on real git repositories: exit codes, text and json, baseline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xfail_grabber.cli import main

from ..source.gitutil import commit, git

TEXT = """\
grabber.toml:8: budget: 2 skip mutes, over the budget of 1
grabber.toml:8: budget: 5 muted tests, over the budget of 4
tests/test_api.py:9: ticket-required: skip mute of test_download has no ticket
tests/test_api.py:9: reason-required: skip mute of test_download has no reason
tests/test_api.py:9: forbid-kinds: skip is not allowed here (skip on test_download)
tests/test_api.py:14: strict-xfail: xfail of test_rounding is not strict (add strict=True)
tests/test_api.py:19: ticket-required: quarantined mute of test_arm has no ticket
tests/test_api.py:19: max-age: muted for 312 days (since 2026-01-10; max 90 days) (warning)
tests/test_api.py:19: known-markers: marker 'quarantined' is not registered in the pytest config
8 errors, 1 warning in 2 files; 5 of 5 mutes checked
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_and_exit_3(example: Path, tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, str(example), "--cache-dir", str(tmp_path / "c"))
    assert (code, err) == (3, "")
    assert out == TEXT


def test_json(example: Path, tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, str(example), "--format", "json", "--cache-dir", str(tmp_path))
    assert code == 3
    data = json.loads(out)
    assert data["counts"] == {
        "muted": 5,
        "judged": 5,
        "errors": 8,
        "warnings": 1,
        "by_rule": {
            "budget": 2,
            "forbid-kinds": 1,
            "known-markers": 1,
            "max-age": 1,
            "reason-required": 1,
            "strict-xfail": 1,
            "ticket-required": 2,
        },
    }
    assert data["policy"] == "grabber.toml"
    first = data["findings"][2]
    assert first == {
        "rule": "ticket-required",
        "rule_id": "XG001",
        "severity": "error",
        "path": "tests/test_api.py",
        "line": 9,
        "message": "skip mute of test_download has no ticket",
        "nodeid": "tests/test_api.py::test_download",
        "kind": "skip",
        "fingerprint": first["fingerprint"],
    }


def test_clean_exit_0_and_warnings_do_not_fail(example: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "p.toml").write_text('[policy]\nmax-age = { severity = "warning", max = "9d" }\n')
    code, out, _ = run(capsys, str(example), "--config", str(tmp_path / "p.toml"))
    assert code == 0
    assert out.splitlines()[-1] == "0 errors, 2 warnings in 1 file; 5 of 5 mutes checked"
    (tmp_path / "q.toml").write_text('[policy]\nforbid-kinds = ["flaky"]\n')
    code, out, _ = run(capsys, str(example), "--config", str(tmp_path / "q.toml"))
    assert (code, out) == (0, "no policy violations; 5 of 5 mutes checked\n")


def test_default_policy_without_a_file(tmp_path: Path, example: Path, capsys) -> None:
    (example / "grabber.toml").unlink()
    code, out, _ = run(capsys, str(example))
    assert code == 3
    rules = [line.split(": ")[1] for line in out.splitlines()[:-1]]
    assert sorted(set(rules)) == ["known-markers", "reason-required", "ticket-required"]


def test_usage_errors_exit_2(example: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[policy]\nticket-required = "error"\nreson-required = "error"\n')
    code, out, err = run(capsys, str(example), "--config", str(bad))
    assert (code, out) == (2, "")
    assert err == f"Error: {bad}:3: policy.reson-required: unknown rule (known: " + (
        "ticket-required, reason-required, since-required, max-age, strict-xfail, "
        "forbid-kinds, known-markers, closed-ticket, owner-required, budget)\n"
    )
    (example / "grabber.toml").write_text('[policy]\n[[policy.paths]]\nmatch = "nope/**"\n')
    code, out, err = run(capsys, str(example))
    assert (code, out) == (2, "")
    assert err == (
        "Error: grabber.toml:3: policy.paths[0].match: glob 'nope/**' matches no file in "
        "the repository\n"
    )
    assert run(capsys, str(example), "main", "extra")[0] == 2
    assert run(capsys)[0] == 2
    assert run(capsys, "--files", "x.py", "--baseline", "HEAD")[0] == 2


def test_failure_exit_1(tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, str(tmp_path / "missing"))
    assert (code, out) == (1, "")
    assert err.startswith("Error: no such file or directory")


def test_baseline_judges_only_added_or_changed(example: Path, tmp_path: Path, capsys) -> None:
    (example / "grabber.toml").write_text(
        '[policy]\nticket-required = "error"\nbudget = { no-increase = true }\n'
    )
    git(example, "add", "-A")
    git(example, "commit", "-qm", "policy")
    git(example, "branch", "base")
    commit(
        example,
        {
            "tests/test_new.py": "import pytest\n\n\n@pytest.mark.skip(reason='x')\n"
            "def test_new():\n    pass\n",
            # A changed mute is judged again: the reason edit keeps it without a ticket.
            "tests/test_api.py": (example / "tests/test_api.py")
            .read_text()
            .replace("@pytest.mark.skip\n", "@pytest.mark.skip(reason='later')\n"),
        },
    )
    code, out, _ = run(capsys, str(example), "--baseline", "base", "--cache-dir", str(tmp_path))
    assert code == 3
    assert out == (
        "grabber.toml:3: budget: 6 muted tests, up from 5 at the baseline\n"
        "tests/test_api.py:9: ticket-required: skip mute of test_download has no ticket\n"
        "tests/test_new.py:4: ticket-required: skip mute of test_new has no ticket\n"
        "3 errors, 0 warnings in 3 files; 2 of 6 mutes checked (added or changed since base)\n"
    )
    # Without the baseline, the old mute without a ticket (test_arm) is judged too.
    code, out, _ = run(capsys, str(example), "--cache-dir", str(tmp_path))
    assert "test_arm has no ticket" in out and "up from" not in out


def test_baseline_of_a_renamed_file_is_not_new(example: Path, tmp_path: Path, capsys) -> None:
    git(example, "branch", "base")
    git(example, "mv", "tests/test_api.py", "tests/test_api_v2.py")
    git(example, "commit", "-qm", "rename")
    _, out, _ = run(capsys, str(example), "main", "--baseline", "base")
    # Only the budget (which counts everything) has something to say.
    assert out.splitlines()[-1] == (
        "2 errors, 0 warnings in 1 file; 0 of 5 mutes checked (added or changed since base)"
    )
    assert all(line.startswith("grabber.toml:8: budget:") for line in out.splitlines()[:-1])


def test_files_mode(example: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(example / "tests")
    code, out, _ = run(capsys, "--files", "legacy/test_old.py")
    assert (code, out) == (0, "no policy violations; 1 of 1 mutes checked\n")
    code, out, _ = run(capsys, "--files", "test_api.py", "legacy/test_old.py", "../pytest.ini")
    assert code == 3
    assert out.splitlines()[-1] == "6 errors, 1 warning in 1 file; 5 of 5 mutes checked"
    code, out, err = run(capsys, "--files", "/etc/hostname")
    assert code == 1 and "not inside the repository" in err
    # A typo or a stale path is not "no policy violations" (pre-commit passes existing files).
    code, out, err = run(capsys, "--files", "test_api.py", "test_typo.py")
    assert (code, out, err) == (1, "", "Error: no such file: test_typo.py\n")
    code, out, err = run(capsys, "--files", "legacy")
    assert (code, out, err) == (1, "", "Error: not a file: legacy\n")


def test_output_file(example: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "report.txt"
    code, out, _ = run(capsys, str(example), "-o", str(target))
    assert (code, out) == (3, "")
    assert target.read_text() == TEXT


def test_files_mode_warm_cache_needs_no_parser(example: Path, tmp_path: Path) -> None:
    """A file the scan cache has seen (same blob) is not parsed again: libcst stays unloaded."""
    script = (
        "import sys\nfrom xfail_grabber.cli import main\n"
        "code = main(['check', '--files', 'tests/test_api.py', '--cache-dir', sys.argv[1]])\n"
        "print(code, 'libcst' in sys.modules)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "cache")],
            cwd=example,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()[-1]
        for _ in range(2)
    ]
    assert runs == ["3 True", "3 False"]


def test_unknown_kind_is_a_usage_error(example: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[policy]\nforbid-kinds = ["xfailflakes"]\n')
    code, out, err = run(capsys, str(example), "--config", str(bad))
    assert (code, out) == (2, "")
    assert err.startswith(f"Error: {bad}:2: policy.forbid-kinds: unknown kind 'xfailflakes'")
    # A custom marker made known in the same file is fine.
    bad.write_text('markers = ["xfailflakes"]\n[policy]\nforbid-kinds = ["xfailflakes"]\n')
    assert run(capsys, str(example), "--config", str(bad))[0] == 0
    bad.write_text("[policy]\nbudget = { max-per-kind = { skipp = 0 } }\n")
    assert main(["diff", str(example), "main", "main", "--config", str(bad)]) == 2
    assert "policy.budget: unknown kind 'skipp'" in capsys.readouterr().err


def test_a_url_with_a_baseline(example: Path, tmp_path: Path, capsys) -> None:
    """A file:// URL is cloned into the cache; its grabber.toml is not read (only --config)."""
    git(example, "branch", "base")
    commit(
        example,
        {"tests/test_more.py": "import pytest\n\n\n@pytest.mark.skip\ndef test_m():\n    pass\n"},
    )
    url = example.as_uri()
    cache = str(tmp_path / "cache")
    code, out, _ = run(capsys, url, "main", "--baseline", "base", "--cache-dir", cache)
    assert code == 3
    assert out == (
        "tests/test_more.py:4: ticket-required: skip mute of test_m has no ticket\n"
        "tests/test_more.py:4: reason-required: skip mute of test_m has no reason (warning)\n"
        "1 error, 1 warning in 1 file; 1 of 6 mutes checked (added or changed since base)\n"
    )
