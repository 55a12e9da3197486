"""Planning: branches from one ls-remote, glob matching, tip dates, and the shard split."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from xfail_grabber.fleet import ShardError, choose_shard, load_fleet, parse_shard, shard_of
from xfail_grabber.fleet.file import RepoSpec
from xfail_grabber.fleet.plan import Shard, list_branches, match_branches, tip_dates
from xfail_grabber.source import SourceError

from ..source.gitutil import git
from ..source.httpgit import serve_git
from .conftest import OLD, RECENT, make_repo, write_fleet


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "origin",
        {
            "main": RECENT,
            "release/1.0": OLD,
            "release/2.0": RECENT,
            "feature-x": RECENT,
            "1.x": OLD,
        },
    )


def spec(tmp_path: Path, url: str, branches: str = "", within: str = "") -> RepoSpec:
    text = f'[[repos]]\nurl = "{url}"\n'
    if branches:
        text += f"branches = {branches}\n"
    if within:
        text += f'active_within = "{within}"\n'
    return load_fleet(write_fleet(tmp_path / "one.toml", text)).repos[0]


def test_branches_and_default_branch_from_one_ls_remote(origin: Path, tmp_path: Path) -> None:
    remote = list_branches(spec(tmp_path, f"file://{origin}"))
    assert remote.head == "main"
    assert sorted(remote.tips) == ["1.x", "feature-x", "main", "release/1.0", "release/2.0"]
    assert remote.tips["main"] == git(origin, "rev-parse", "main")


def test_globs_pick_branches_and_no_globs_pick_the_default(origin: Path, tmp_path: Path) -> None:
    url = f"file://{origin}"
    remote = list_branches(spec(tmp_path, url))
    assert match_branches(spec(tmp_path, url), remote) == ["main"]
    globs = '["main", "master", "release/*", "1.*"]'
    assert match_branches(spec(tmp_path, url, globs), remote) == [
        "1.x",
        "main",
        "release/1.0",
        "release/2.0",
    ]
    # A local path works the same way.
    assert match_branches(spec(tmp_path, str(origin), '["feature-*"]'), remote) == ["feature-x"]


def test_tip_dates_say_which_branches_are_active(origin: Path, tmp_path: Path) -> None:
    repo = spec(tmp_path, f"file://{origin}")
    dates = tip_dates(repo, ["main", "release/1.0", "release/2.0"], tmp_path / "cache")
    assert {b: d.date().isoformat() for b, d in dates.items()} == {
        "main": RECENT[:10],
        "release/1.0": OLD[:10],
        "release/2.0": RECENT[:10],
    }
    # The scratch repository is gone; nothing was cloned into the cache.
    assert list((tmp_path / "cache").rglob("*.git")) == []
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []


def test_an_unreachable_remote_is_a_one_line_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^cannot list the branches of file://"):
        list_branches(spec(tmp_path, f"file://{tmp_path}/missing.git"))


TOKEN = "ghp_FleetTokenNeverInArgv0123456789"


def test_ls_remote_and_tips_carry_the_token_from_the_environment(
    origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "srv"
    root.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(origin), str(root / "org.git"))
    git(root / "org.git", "config", "uploadpack.allowFilter", "true")
    with serve_git(root, TOKEN) as server:
        repo = spec(tmp_path, f"{server.url}/org.git", '["release/*"]')
        with pytest.raises(SourceError, match="authentication required"):
            list_branches(repo)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        server.requests.clear()
        branches = match_branches(repo, list_branches(repo))
        assert branches == ["release/1.0", "release/2.0"]
        listing = len(server.requests)
        assert listing <= 2  # info/refs and one ls-refs request
        dates = tip_dates(repo, branches, tmp_path / "cache")
        assert sorted(dates) == branches
        assert all(status == 200 for _, status in server.requests)


def test_shard_of_is_pinned() -> None:
    # sha256, not hash(): the same in every process and Python. A change here would move every
    # pair to another pod from one day to the next.
    assert shard_of("r", "main", 7) == 5
    assert shard_of("https://github.com/org/service", "main", 4) == 1
    assert shard_of("https://github.com/org/service", "master", 4) == 3


def test_shards_split_pairs_evenly_and_exactly_once() -> None:
    pairs = [(f"https://h/org/r{i}", b) for i in range(200) for b in ("main", "release/1")]
    for count in (1, 3, 4):
        shares = [[p for p in pairs if Shard(index, count).takes(*p)] for index in range(count)]
        assert sorted(itertools.chain(*shares)) == sorted(pairs)
        assert min(len(s) for s in shares) > len(pairs) / count * 0.75


def test_choose_shard() -> None:
    assert choose_shard(None, None, None, {}) is None
    assert choose_shard("1/4", None, None, {}) == Shard(1, 4)
    assert choose_shard("1/4", None, 8, {"JOB_COMPLETION_INDEX": "3"}) == Shard(1, 4)
    assert choose_shard(None, 5, 8, {"JOB_COMPLETION_INDEX": "3"}) == Shard(3, 5)
    assert choose_shard(None, None, 8, {"JOB_COMPLETION_INDEX": "3"}) == Shard(3, 8)
    # The file's `shards` alone does not shard a run outside an Indexed Job.
    assert choose_shard(None, None, 8, {}) is None
    for args, message in [
        (("4/4", None, None, {}), "shard index 4 is not in 0..3"),
        (("x", None, None, {}), "not a shard"),
        (("0/0", None, None, {}), "shard count"),
        ((None, 2, None, {}), "--shards needs"),
        ((None, None, None, {"JOB_COMPLETION_INDEX": "1"}), "not the shard count"),
        ((None, 2, None, {"JOB_COMPLETION_INDEX": "2"}), "shard index 2 is not in 0..1"),
        ((None, 2, None, {"JOB_COMPLETION_INDEX": "-1"}), "not a number"),
    ]:
        with pytest.raises(ShardError, match=message):
            choose_shard(*args)
    assert parse_shard(" 2/3") == Shard(2, 3)


def test_one_scratch_repository_serves_many_repositories(origin: Path, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other", {"main": OLD, "release/2.0": OLD})
    scratch = tmp_path / "scratch"
    first = tip_dates(spec(tmp_path, f"file://{origin}"), ["main", "release/2.0"], None, scratch)
    second = tip_dates(spec(tmp_path, f"file://{other}"), ["main", "release/2.0"], None, scratch)
    assert {d.date().isoformat() for d in first.values()} == {RECENT[:10]}
    assert {d.date().isoformat() for d in second.values()} == {OLD[:10]}
    assert len(list(scratch.iterdir())) == 1  # one repository, reused
