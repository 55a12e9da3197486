"""Which (repository, branch) pairs a fleet run scans, and which of them this shard takes.

- One `git ls-remote --symref URL HEAD refs/heads/*` per repository lists its branches (and
  its default branch, for entries that name no `branches`); the globs are matched against it.
- A shard's share is a pure function of (repository, branch, shard count): a hash, so every
  pod of an Indexed Job computes the same split whatever the order of the file or the remote.
- `active_within` needs the tips' commit dates: the tips alone (one commit each, no trees, no
  blobs) are fetched in one shallow request into a scratch repository, so a repository whose
  branches are all dormant is never cloned.
- A repository already in the clone cache (a persistent cache, a local path) skips both: one
  fetch of the clone brings its branches and their dates (`local_branches`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..source import SourceError
from ..source.clones import COMPLETE_MARKER, clone_path, default_cache_dir
from ..source.command import LOCAL, GitFailed, git_for, run
from ..source.remote import Remote, is_url, parse_remote, remote_error
from .file import RepoSpec

log = logging.getLogger("xfail_grabber.fleet")

SHARD_VARIABLE = "JOB_COMPLETION_INDEX"  # set by Kubernetes in the pods of an Indexed Job


class ShardError(ValueError):
    """A --shard / --shards / JOB_COMPLETION_INDEX value that cannot be used."""


@dataclass(frozen=True)
class Shard:
    index: int  # 0-based, as Kubernetes numbers completions
    count: int

    def takes(self, identity: str, branch: str) -> bool:
        return shard_of(identity, branch, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(identity: str, branch: str, count: int) -> int:
    """The shard (0..count-1) of a (repository, branch) pair: stable across runs, machines,
    Python versions and the order of anything (sha256, not hash())."""
    digest = hashlib.sha256(f"{identity}\0{branch}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str) -> Shard:
    """`INDEX/COUNT`, INDEX from 0."""
    index, sep, count = text.partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ShardError(f"not a shard: {text!r} (use INDEX/COUNT, e.g. 0/4)")
    return _shard(int(index), int(count))


def _shard(index: int, count: int) -> Shard:
    if not 1 <= count <= 10_000:
        raise ShardError(f"a shard count must be from 1 to 10000, not {count}")
    if not 0 <= index < count:
        raise ShardError(f"shard index {index} is not in 0..{count - 1}")
    return Shard(index, count)


def choose_shard(
    shard: str | None,
    shards: int | None,
    file_shards: int | None,
    environ: Mapping[str, str] | None = None,
) -> Shard | None:
    """--shard INDEX/COUNT; else JOB_COMPLETION_INDEX with the count from --shards or the
    fleet file's `shards`; else None (the whole fleet)."""
    environ = os.environ if environ is None else environ
    if shard is not None:
        return parse_shard(shard)
    count = shards if shards is not None else file_shards
    index = environ.get(SHARD_VARIABLE, "").strip()
    if not index:
        if shards is not None:
            raise ShardError(f"--shards needs --shard INDEX/COUNT or {SHARD_VARIABLE}")
        return None
    if not index.isdigit():
        raise ShardError(f"{SHARD_VARIABLE} is not a number: {index[:20]!r}")
    if count is None:
        raise ShardError(
            f"{SHARD_VARIABLE} is set but not the shard count: give --shards N "
            "or `shards = N` in the fleet file"
        )
    return _shard(int(index), count)


@dataclass(frozen=True)
class RemoteBranches:
    head: str | None  # the default branch, when the remote says
    tips: dict[str, str]  # branch name -> commit id


def _remote_of(spec: RepoSpec) -> Remote | None:
    return parse_remote(spec.url) if is_url(spec.url) else None


def list_branches(spec: RepoSpec) -> RemoteBranches:
    """The remote's branches and default branch, in one ls-remote."""
    remote = _remote_of(spec)
    where = remote.url if remote else spec.url
    try:
        network = remote.network if remote else LOCAL
        out = run(
            git_for(network),
            ["ls-remote", "--symref", "--", where, "HEAD", "refs/heads/*"],
            network=network,
            timeout=network.timeout,
        ).stdout.decode("utf-8", "surrogateescape")
    except GitFailed as exc:
        if remote is None:
            raise SourceError(f"cannot list the branches of {spec.url}: {exc}") from None
        raise remote_error(remote, exc, "list the branches of") from None
    head: str | None = None
    tips: dict[str, str] = {}
    for line in out.splitlines():
        left, _, name = line.partition("\t")
        if left.startswith("ref: refs/heads/") and name == "HEAD":
            head = left.removeprefix("ref: refs/heads/")
        elif name.startswith("refs/heads/"):
            tips[name.removeprefix("refs/heads/")] = left
    return RemoteBranches(head, tips)


def match_branches(spec: RepoSpec, remote: RemoteBranches) -> list[str]:
    """The branches the entry's globs pick (or the default branch), sorted."""
    if not spec.branches:
        return [remote.head] if remote.head in remote.tips else []
    return sorted(
        name
        for name in remote.tips
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in spec.branches)
    )


def tip_dates(
    spec: RepoSpec, branches: list[str], cache_dir: Path | None, scratch: Path | None = None
) -> dict[str, datetime]:
    """The commit date of each branch's tip (branches missing on the remote are left out).

    The tips are fetched shallowly (depth 1, no trees) into a scratch repository: one request,
    a few hundred bytes a branch. `scratch` is a directory for the scratch repository of this
    process, kept for the next repository (creating and deleting a repository costs more than
    the fetch; the caller removes the directory); without it a temporary one is used.
    """
    if not branches:
        return {}
    if scratch is not None:
        return _tip_dates_into(spec, branches, _scratch_repo(scratch))
    root = (cache_dir or default_cache_dir()) / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix="tips-", dir=root))
    try:
        return _tip_dates_into(spec, branches, _scratch_repo(temporary))
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _scratch_repo(directory: Path) -> Path:
    """This process's scratch repository under `directory` (created on first use)."""
    git_dir = directory / f"tips-{os.getpid()}.git"
    if not (git_dir / "HEAD").is_file():
        directory.mkdir(parents=True, exist_ok=True)
        run(git_for(LOCAL), ["init", "-q", "--bare", "--template=", str(git_dir)])
    return git_dir


def _tip_dates_into(spec: RepoSpec, branches: list[str], git_dir: Path) -> dict[str, datetime]:
    remote = _remote_of(spec)
    # Each repository's tips under a namespace of their own in the shared scratch repository.
    space = f"refs/tips/{hashlib.sha256(spec.identity.encode()).hexdigest()[:16]}"
    refspecs = [f"+refs/heads/{b}:{space}/{b}" for b in branches]
    # No auto gc/maintenance, no FETCH_HEAD, and no "have" lines about other repositories' tips.
    quiet = ["-c", "gc.auto=0", "-c", "maintenance.auto=false"]
    quiet += ["-c", "fetch.negotiationAlgorithm=noop"]
    args = [*quiet, "fetch", "-q", "--no-tags", "--no-write-fetch-head", "--depth=1"]
    args.append("--filter=tree:0")
    try:
        # A plain path would make git name the promisor remote after it, which it refuses.
        where = remote.url if remote else Path(spec.url).resolve().as_uri()
        network = remote.network if remote else LOCAL
        run(
            git_for(network),
            [*args, "--", where, *refspecs],
            git_dir=git_dir,
            network=network,
            timeout=network.timeout,
        )
    except GitFailed as exc:
        if remote is None:
            raise SourceError(f"cannot fetch the tips of {spec.url}: {exc}") from None
        raise remote_error(remote, exc, "fetch the tips of") from None
    out = run(
        git_for(LOCAL),
        ["for-each-ref", "--format=%(committerdate:unix) %(refname)", space],
        git_dir=git_dir,
    ).stdout.decode("utf-8", "surrogateescape")
    dates: dict[str, datetime] = {}
    for line in out.splitlines():
        stamp, _, name = line.partition(" ")
        if stamp.isdigit():
            dates[name.removeprefix(f"{space}/")] = datetime.fromtimestamp(int(stamp), UTC)
    return dates


def has_clone(spec: RepoSpec, cache_dir: Path | None) -> bool:
    """Whether the repository can be read without asking the remote first: a local path, or
    a URL whose clone is in the cache."""
    remote = _remote_of(spec)
    if remote is None:
        return True
    return (clone_path(remote, cache_dir) / COMPLETE_MARKER).is_file()


def local_branches(git_dir: Path) -> tuple[RemoteBranches, dict[str, datetime]]:
    """The branches of a (fetched) repository and their tips' dates, in one for-each-ref."""
    out = run(
        git_for(LOCAL),
        [
            "for-each-ref",
            "--format=%(objectname) %(committerdate:unix) %(refname:strip=2)",
            "refs/heads",
        ],
        git_dir=git_dir,
    ).stdout.decode("utf-8", "surrogateescape")
    tips: dict[str, str] = {}
    dates: dict[str, datetime] = {}
    for line in out.splitlines():
        sha, stamp, name = line.split(" ", 2)
        tips[name] = sha
        if stamp.isdigit():
            dates[name] = datetime.fromtimestamp(int(stamp), UTC)
    head = run(
        git_for(LOCAL), ["symbolic-ref", "-q", "--short", "HEAD"], git_dir=git_dir, check=False
    )
    return RemoteBranches(
        head.stdout.decode("utf-8", "surrogateescape").strip() or None, tips
    ), dates
