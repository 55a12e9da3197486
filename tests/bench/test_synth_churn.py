"""The heavy-churn year (benchmarks/synth_churn.py), and history over it against fresh scans."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from xfail_grabber.config import Settings
from xfail_grabber.core import snapshot_of
from xfail_grabber.history import scan_history
from xfail_grabber.source.open import open_git, open_source

from .test_synth import synth

sys.path.insert(0, str(Path(synth.__file__).parent))
import synth_churn

# Weeks 0-11 hold a sub-package move (10) and helper alias changes (3, 7, 11); 23 renames
# an area, 27 changes helpers again.
WEEKS = [*range(12), 23, 27]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def churned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, int]]]:
    repo = tmp_path_factory.mktemp("churn") / "repo"
    synth.build(repo, files=70, seed=3, target_mb=70 * 6 / 1024)
    return repo, [synth_churn.week(repo, n) for n in WEEKS]


def test_a_week_changes_moves_adds_and_deletes(churned: tuple[Path, list[dict[str, int]]]) -> None:
    repo, weeks = churned
    assert all(w["edited"] >= 9 and w["added"] >= 1 and w["deleted"] >= 1 for w in weeks)
    assert [n for n, w in zip(WEEKS, weeks, strict=True) if w["moved"]] == [10, 23]
    assert [n for n, w in zip(WEEKS, weeks, strict=True) if w["helpers"]] == [3, 7, 11, 23, 27]
    renames = git(repo, "diff", "-M", "--name-status", "HEAD~4", "HEAD~3").splitlines()
    assert sum(line.startswith("R100") for line in renames) >= 3  # week 10's move
    assert git(repo, "status", "--porcelain") == ""
    for rel in git(repo, "ls-files", "*.py").splitlines():
        ast.parse((repo / rel).read_bytes(), filename=rel)
    commits = git(repo, "log", "--format=%H", f"-{len(WEEKS)}").split()[::-1]
    assert 1.5 < synth_churn.distinct_blob_ratio(repo, commits) < 4


def test_history_over_the_churn_equals_fresh_scans(
    churned: tuple[Path, list[dict[str, int]]], tmp_path: Path
) -> None:
    repo, _ = churned
    stamps = git(repo, "log", "--reverse", "--format=%ct").split()
    moments = [datetime.fromtimestamp(int(s), UTC) + timedelta(seconds=1) for s in stamps]
    found = list(scan_history(open_git(str(repo)), "main", moments, Settings(), cache_dir=tmp_path))
    assert len(found) == len(WEEKS) + 1
    counts = []
    for point, snapshot in found:
        with open_source(str(repo), "main", point.commit) as checkout:
            fresh = snapshot_of(checkout, Settings(), cache=None)
        assert [r.to_dict() for r in snapshot.muted] == [r.to_dict() for r in fresh.muted]
        assert (snapshot.errors, snapshot.files_scanned) == (fresh.errors, fresh.files_scanned)
        counts.append(len(fresh.muted))
    assert len(set(counts)) > 3  # the records did move
