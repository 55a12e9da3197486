"""git blame for first_seen: a real repository with dated commits, a rename, an edit."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

from xfail_grabber.enrich.blame import BlameCache, age_days, blame_file, since_mismatch


def git(repo: Path, *args: str, when: str = "2024-01-10T10:00:00Z") -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, timeout=30
    )
    return done.stdout.decode().strip()


def make_repo(tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "test_a.py").write_text(
        "import pytest\n\n\n@pytest.mark.skip(reason='old')\ndef test_one():\n    pass\n"
    )
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first", when="2024-01-10T10:00:00Z")
    git(repo, "mv", "test_a.py", "test_b.py")
    git(repo, "commit", "-qm", "rename", when="2024-06-01T10:00:00Z")
    text = (repo / "test_b.py").read_text()
    (repo / "test_b.py").write_text(text + "\n\n@pytest.mark.xfail\ndef test_two():\n    pass\n")
    git(repo, "commit", "-qam", "second mute", when="2025-03-03T10:00:00Z")
    return repo, git(repo, "rev-parse", "HEAD")


def test_blame_follows_renames_and_dates_each_line(tmp_path: Path) -> None:
    repo, head = make_repo(tmp_path)
    lines = blame_file(repo / ".git", head, "test_b.py")
    first, second = lines[4], lines[9]
    assert first.date == datetime(2024, 1, 10, 10, tzinfo=UTC)  # before the rename
    assert first.author == "Ada"
    assert first.commit == git(repo, "rev-list", "--max-parents=0", "HEAD")
    assert second.date == datetime(2025, 3, 3, 10, tzinfo=UTC) and second.commit == head
    assert age_days(first, date(2024, 1, 20)) == 10


def test_uncommitted_lines_have_no_origin_and_errors_give_nothing(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path)
    (repo / "test_b.py").write_text((repo / "test_b.py").read_text() + "\n# new line\n")
    lines = blame_file(repo / ".git", None, "test_b.py")
    assert 4 in lines and max(lines) < len((repo / "test_b.py").read_text().splitlines())
    assert blame_file(repo / ".git", "0" * 40, "test_b.py") == {}
    assert blame_file(repo / ".git", None, "missing.py") == {}


def test_the_cache_blames_a_blob_once(tmp_path: Path) -> None:
    repo, head = make_repo(tmp_path)
    cache = BlameCache()

    def run(path: str) -> dict:  # type: ignore[type-arg]
        return blame_file(repo / ".git", head, path)

    first = cache.lines("test_b.py", "blob1", run)
    assert cache.lines("test_b.py", "blob1", run) is first
    cache.lines("test_b.py", "blob2", run)
    assert cache.runs == 2


def test_since_mismatch() -> None:
    from xfail_grabber.enrich.blame import Origin

    origin = Origin("c" * 40, datetime(2024, 1, 10, tzinfo=UTC), "Ada")
    assert since_mismatch("2024-01-15", origin, 30) is False
    assert since_mismatch("2019-01-15", origin, 30) is True
    assert since_mismatch(None, origin, 30) is None
    assert since_mismatch("someday", origin, 30) is None
