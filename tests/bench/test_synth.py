"""The benchmark's synthetic repository: deterministic, and on its size and mute targets."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SYNTH = Path(__file__).resolve().parents[2] / "benchmarks" / "synth.py"
FILES = 80
TARGET_MB = FILES * 6 / 1024  # the full benchmark's density: 2,500 files in 15 MiB


def load_synth() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_synth", SYNTH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_synth"] = module  # dataclasses and friends look their module up
    spec.loader.exec_module(module)
    return module


synth = load_synth()


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    repo = tmp_path_factory.mktemp("synth") / "repo"
    return repo, synth.build(repo, files=FILES, seed=7, target_mb=TARGET_MB)


def test_same_seed_gives_the_same_commit(
    built: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    repo, stats = built
    again = synth.build(tmp_path / "again", files=FILES, seed=7, target_mb=TARGET_MB)
    assert again["commit"] == stats["commit"] == git(repo, "rev-parse", "HEAD")
    assert git(tmp_path / "again", "rev-parse", "HEAD^{tree}") == git(
        repo, "rev-parse", "HEAD^{tree}"
    )
    other = synth.build(tmp_path / "other", files=FILES, seed=8, target_mb=TARGET_MB)
    assert other["commit"] != stats["commit"]


def test_size_and_mute_targets(built: tuple[Path, dict[str, object]]) -> None:
    repo, stats = built
    tests = [
        p
        for p in git(repo, "ls-files", "*.py").splitlines()
        if p.rsplit("/", 1)[-1].startswith("test_") or p.endswith("_test.py")
    ]
    assert stats["test_files"] == len(tests) == FILES
    total = sum((repo / p).stat().st_size for p in git(repo, "ls-files", "*.py").splitlines())
    assert stats["bytes"] == total
    assert TARGET_MB * 1024 * 1024 <= total <= 1.3 * TARGET_MB * 1024 * 1024
    assert stats["muted_files"] == round(FILES * synth.MUTED_SHARE)
    # A log-normal spread: a long tail well above the median.
    assert int(str(stats["largest_file_bytes"])) > 5 * int(str(stats["median_test_file_bytes"]))
    by_kind = stats["expected_by_kind"]
    assert isinstance(by_kind, dict)
    assert stats["expected_records"] == sum(by_kind.values()) >= int(str(stats["muted_files"]))
    by_file = stats["expected_by_file"]
    assert isinstance(by_file, dict) and set(by_file) <= set(tests)
    assert sum(by_file.values()) == stats["expected_records"]
    assert len(by_file) == stats["muted_files"]


@pytest.mark.parametrize("branch", [[], ["main"]], ids=["work-tree", "git"])
def test_grabber_finds_exactly_the_planted_records(
    built: tuple[Path, dict[str, object]], tmp_path: Path, branch: list[str]
) -> None:
    from xfail_grabber.cli import main

    repo, stats = built
    out = tmp_path / "out.json"
    argv = ["dump", str(repo), *branch, "--cache-dir", str(tmp_path / "cache"), "-o", str(out)]
    assert main(argv) == 0
    snapshot = json.loads(out.read_text(encoding="utf-8"))
    found: dict[str, int] = {}
    for record in snapshot["muted"]:
        found[record["path"]] = found.get(record["path"], 0) + 1
    assert found == stats["expected_by_file"]
    assert snapshot["counts"]["by_kind"] == stats["expected_by_kind"]
    assert snapshot["errors"] == []


def test_every_file_is_python_3(built: tuple[Path, dict[str, object]]) -> None:

    repo, _ = built
    for rel in git(repo, "ls-files", "*.py").splitlines():
        ast.parse((repo / rel).read_bytes(), filename=rel)


def test_muted_files_hold_marks_and_the_rest_mostly_do_not(
    built: tuple[Path, dict[str, object]],
) -> None:
    repo, stats = built
    words = "xfail|skip|flaky|quarantined|expectedFailure|pytestmark"
    mentioning = git(repo, "grep", "-l", "-E", words, "--", "tests").splitlines()
    tests = [
        p for p in mentioning if p.rsplit("/", 1)[-1].startswith("test_") or p.endswith("_test.py")
    ]
    # Muted files, plus a few that say "skip" in ordinary code: a prefilter is tested honestly.
    muted = int(str(stats["muted_files"]))
    assert muted < len(tests) < muted + FILES * 0.25


def test_churn_changes_the_given_share_and_commits(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = synth.build(repo, files=30, seed=3, target_mb=0.1)
    changed = synth.churn(repo, 0.2, seed=5)
    assert len(changed) == 6 and changed == sorted(changed)
    assert git(repo, "rev-parse", "HEAD") != first["commit"]
    assert sorted(git(repo, "diff", "--name-only", "HEAD^", "HEAD").splitlines()) == changed
    assert git(repo, "status", "--porcelain") == ""

    for rel in changed:
        ast.parse((repo / rel).read_bytes(), filename=rel)
