"""The scan cache: unchanged files are not parsed twice, and settings changes are not mixed."""

from __future__ import annotations

import json
import subprocess

from xfail_grabber.cli import main


def make_repo(path):
    (path / "tests").mkdir(parents=True)
    (path / "tests" / "marks.py").write_text(
        "import pytest\nnet = pytest.mark.skipif(True, reason='net')\n"
    )
    (path / "tests" / "test_a.py").write_text(
        "import pytest\nfrom .marks import net\n\n@net\ndef test_a(): pass\n\n"
        "@pytest.mark.xfailflake(jira='X-1')\ndef test_b(): pass\n"
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=path, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=path, check=True)
    return git


def dump(capsys, *args):
    assert main(["dump", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_warm_scan_equals_cold_and_only_is_not_mixed_up(tmp_path, capsys):
    repo = tmp_path / "repo"
    make_repo(repo)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    cold = dump(capsys, str(repo), "main", *cache)
    warm = dump(capsys, str(repo), "main", *cache)
    assert cold["muted"] == warm["muted"] and len(cold["muted"]) == 2
    only = dump(capsys, str(repo), "main", "--only", "xfailflake", *cache)
    assert [r["kind"] for r in only["muted"]] == ["xfailflake"]
    again = dump(capsys, str(repo), "main", *cache)
    assert again["muted"] == cold["muted"]


def test_alias_change_in_another_file_reaches_cached_users(tmp_path, capsys):
    repo = tmp_path / "repo"
    git = make_repo(repo)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    before = dump(capsys, str(repo), "main", *cache)
    assert {r["kind"] for r in before["muted"]} == {"skipif", "xfailflake"}
    (repo / "tests" / "marks.py").write_text(
        "import pytest\nnet = pytest.mark.quarantined(reason='now quarantined')\n"
    )
    subprocess.run([*git, "commit", "-qam", "two"], cwd=repo, check=True)
    after = dump(capsys, str(repo), "main", *cache)
    assert {(r["test"], r["kind"]) for r in after["muted"]} == {
        ("test_a", "quarantined"),
        ("test_b", "xfailflake"),
    }
