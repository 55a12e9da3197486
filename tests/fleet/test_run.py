"""Running a fleet from Python: active branches only, failures recorded, the others go on."""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path

import pytest

from xfail_grabber.config import build_settings
from xfail_grabber.fleet import Fleet, Shard, Summary, load_fleet, run_fleet
from xfail_grabber.fleet.actions import Dump, Push
from xfail_grabber.fleet.run import Action
from xfail_grabber.sinks.db import latest_snapshot

from ..source.gitutil import commit, git
from .conftest import OLD, RECENT, make_repo, mute, write_fleet


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    a = make_repo(tmp_path / "a", {"main": RECENT, "release/1": OLD, "release/2": RECENT})
    b = make_repo(tmp_path / "b", {"master": RECENT, "dev": RECENT}, head="master")
    c = make_repo(tmp_path / "c", {"main": OLD})
    text = (
        '[defaults]\nbranches = ["main", "master", "release/*"]\nactive_within = "30d"\n\n'
        f'[[repos]]\nurl = "file://{a}"\n\n'
        f'[[repos]]\nurl = "file://{tmp_path}/gone.git"\n\n'
        f'[[repos]]\nurl = "file://{b}"\n\n'
        f'[[repos]]\nurl = "{c}"\n'
    )
    return load_fleet(write_fleet(tmp_path / "fleet.toml", text))


def run(
    fleet: Fleet, action: Action, tmp_path: Path, jobs: int, shard: Shard | None = None
) -> tuple[list[str], str, Summary]:
    out, err = io.StringIO(), io.StringIO()
    base = build_settings((), (), fleet.path)
    summary = run_fleet(
        fleet,
        lambda repo: fleet.settings_for(repo, base, (), ()),
        action,
        jobs=jobs,
        shard=shard,
        cache_dir=tmp_path / "cache",
        out=out,
        err=err,
        progress=False,
    )
    return out.getvalue().splitlines(), err.getvalue(), summary


@pytest.mark.parametrize("jobs", [1, 2])
def test_dump_writes_one_line_per_active_branch(fleet: Fleet, tmp_path: Path, jobs: int) -> None:
    lines, err, summary = run(fleet, Dump(), tmp_path, jobs=jobs)
    snapshots = [json.loads(line) for line in lines]
    got = sorted((s["repo"].rsplit("/", 1)[-1], s["branch"]) for s in snapshots)
    assert got == [("a", "main"), ("a", "release/2"), ("b", "master")]
    for s in snapshots:  # each branch's own muted test is there
        slug = s["branch"].replace("/", "_")
        assert f"tests/test_{slug}.py::test_{slug}" in [r["nodeid"] for r in s["muted"]]
    assert err.startswith(f"grabber: failed: cannot list the branches of file://{tmp_path}/gone")
    assert err.count("\n") == 1
    assert summary.text("written", None).rsplit(",", 1)[0] == (
        "fleet: 4 repositories, 5 branches matched, 3 active, 3 snapshots written, 1 failure"
    )


def test_a_failing_branch_does_not_stop_its_repository(fleet: Fleet, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a directory")
    lines, err, summary = run(fleet, Push(f"sqlite:///{blocked}/x.db"), tmp_path, jobs=1)
    assert lines == []
    failed = [line for line in err.splitlines() if line.startswith("grabber: failed: ")]
    # The missing repository, then each of the three active branches: all tried.
    assert len(failed) == 4
    assert any("@release/2: " in line for line in failed)
    assert summary.snapshots == 0


def test_push_stores_a_snapshot_per_active_branch(fleet: Fleet, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fleet.db"
    _, _, summary = run(fleet, Push(url), tmp_path, jobs=2)
    assert summary.snapshots == 3
    stored = latest_snapshot(url, f"file://{tmp_path}/b", "master")
    assert stored is not None and len(stored.muted) == 2


def test_a_shard_takes_its_share(fleet: Fleet, tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []
    for index in range(3):
        lines, _, _ = run(fleet, Dump(), tmp_path, jobs=1, shard=Shard(index, 3))
        seen += [(json.loads(x)["repo"], json.loads(x)["branch"]) for x in lines]
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 3


def test_a_warm_cache_needs_one_fetch_per_repository(
    fleet: Fleet, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, _, _ = run(fleet, Dump(), tmp_path, jobs=1)
    a = tmp_path / "a"
    git(a, "branch", "-D", "release/2")
    git(a, "checkout", "-q", "-b", "release/3")  # a new active branch on the remote
    commit(a, {"tests/test_release_3.py": mute("release_3")}, "r3", date=RECENT)
    git(a, "checkout", "-q", "main")
    with caplog.at_level(logging.DEBUG, logger="xfail_grabber"):
        second, _, summary = run(fleet, Dump(), tmp_path, jobs=1)
    commands = [r.getMessage() for r in caplog.records if r.getMessage().startswith("running git")]
    # a and b are in the cache: one fetch each, no ls-remote, no fetch of the tips. The local
    # path c is read in place; the missing repository is still asked (and fails).
    assert sum(" ls-remote " in c for c in commands) == 1
    assert sum(" fetch -q --prune " in c for c in commands) == 2
    assert not any("--depth=1" in c for c in commands)
    assert sorted(json.loads(x)["branch"] for x in first) == ["main", "master", "release/2"]
    assert sorted(json.loads(x)["branch"] for x in second) == ["main", "master", "release/3"]
    assert summary.failures[0].branch is None


def test_progress_on_a_terminal_and_no_scratch_left(fleet: Fleet, tmp_path: Path) -> None:
    stale = tmp_path / "cache" / "tmp" / "fleet-killed"
    stale.mkdir(parents=True)
    os.utime(stale, (0, 0))
    out, err = io.StringIO(), io.StringIO()
    base = build_settings((), (), fleet.path)
    run_fleet(
        fleet,
        lambda repo: fleet.settings_for(repo, base, (), ()),
        Dump(),
        jobs=1,
        cache_dir=tmp_path / "cache",
        out=out,
        err=err,
        progress=True,
    )
    text = err.getvalue()
    assert "\rfleet: 1/4 repositories, 2 snapshots, 0 failed" in text
    assert "\r\033[Kgrabber: failed: cannot list the branches of " in text
    assert text.endswith("\rfleet: 4/4 repositories, 3 snapshots, 1 failed\n")
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []  # this run's and the stale one
