"""Turn a REPOSITORY argument (URL or path) plus BRANCH/--ref into a Checkout.

- a URL (https, ssh, file, scp-like): cloned into the clone cache (or fetched), read at the
  commit from git objects; BRANCH defaults to the remote's HEAD;
- a local work tree without BRANCH and --ref: scanned as it is on disk, uncommitted edits
  included, ignored files (.venv, build output) left out;
- a local work tree or bare repository with BRANCH or --ref: read from git objects;
- a plain directory without BRANCH and --ref: scanned as it is on disk.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import Checkout, SourceError
from .clones import Remote, cached_clone, fetch_ref, is_url, parse_remote
from .git import GitCheckout, Revision, commit_time, head_branch, resolve, rev_parse
from .gitrun import Auth, GitFailed, run_git
from .local import DirectoryCheckout

log = logging.getLogger("xfail_grabber.git")


def probe(path: Path) -> tuple[str, Path] | None:
    """("worktree", top) or ("gitdir", git_dir) when `path` is the top of a repository."""
    proc = run_git(
        ["rev-parse", "--absolute-git-dir", "--is-bare-repository", "--show-toplevel"],
        cwd=path,
        check=False,
    )
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode != 0 and not lines:
        return None
    here = path.resolve()
    if lines and Path(lines[0]).resolve() == here:
        return ("gitdir", here)
    if len(lines) >= 3 and lines[1] == "false" and Path(lines[2]).resolve() == here:
        return ("worktree", here)
    return None


def worktree_checkout(top: Path, label: str) -> DirectoryCheckout:
    """A work tree as it is on disk: tracked and untracked files, ignored ones left out."""
    git_dir_proc = run_git(["rev-parse", "--absolute-git-dir"], cwd=top)
    git_dir = Path(git_dir_proc.stdout.decode("utf-8", "surrogateescape").strip())
    out = run_git(["ls-files", "-co", "--exclude-standard", "-z", "--", "*.py"], cwd=top).stdout
    names = {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}
    out = run_git(["ls-files", "-c", "-z", "--", "*.py"], cwd=top).stdout
    tracked = {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}
    # Tracked files deleted on disk are gone from the tree "as it is on disk".
    paths = sorted(p for p in names if os.path.lexists(top / p))
    commit = rev_parse(git_dir, "HEAD")
    return DirectoryCheckout(
        top,
        label=label,
        branch=head_branch(git_dir),
        commit=commit,
        committed_at=commit_time(git_dir, commit) if commit else None,
        paths=paths,
        tracked=tracked,
    )


@contextmanager
def open_source(
    repository: str,
    branch: str | None = None,
    ref: str | None = None,
    *,
    cache_dir: Path | None = None,
) -> Iterator[Checkout]:
    """Yield a Checkout for the repository; clean up whatever it needed afterwards."""
    for value, what in ((branch, "branch"), (ref, "ref")):
        if value is not None and (not value or value.startswith("-") or "\n" in value):
            raise SourceError(f"not a valid {what} name: {value!r}")
    if is_url(repository):
        repo = open_git(repository, cache_dir=cache_dir)
        yield repo.checkout(repo.resolve(branch, ref))
        return
    path = Path(repository)
    if not path.exists():
        raise SourceError(f"no such file or directory: {repository}")
    if not path.is_dir():
        raise SourceError(f"not a directory: {repository}")
    found = probe(path)
    if found is None:
        if branch is not None or ref is not None:
            raise SourceError(f"not a git repository: {repository}")
        yield DirectoryCheckout(path, label=local_label(path))
        return
    if found[0] == "worktree" and branch is None and ref is None:
        yield worktree_checkout(found[1], local_label(found[1]))
        return
    repo = open_git(repository, cache_dir=cache_dir)
    yield repo.checkout(repo.resolve(branch, ref))


@dataclass(frozen=True)
class GitRepository:
    """A git repository to read many commits from (history, diff)."""

    git_dir: Path
    label: str
    remote: Remote | None = None
    sizes: dict[str, int] = field(default_factory=dict, compare=False)  # blob id -> size
    root_files: dict[str, bytes] = field(default_factory=dict, compare=False)  # blob id -> bytes

    @property
    def auth(self) -> Auth | None:
        return self.remote.auth if self.remote else None

    def commit_of(self, rev: str) -> str:
        """The commit a branch, tag or commit-ish names (fetched when a URL's branches lack it)."""
        if not rev or rev.startswith("-") or "\n" in rev:
            raise SourceError(f"not a valid ref name: {rev!r}")
        commit = rev_parse(self.git_dir, rev)
        if commit is None and self.remote is not None:
            commit = fetch_ref(self.remote, self.git_dir, rev)
        if commit is None:
            raise SourceError(f"unknown ref: {rev}")
        return commit

    def resolve(self, branch: str | None, ref: str | None = None) -> Revision:
        try:
            return resolve(self.git_dir, branch, ref)
        except SourceError:
            if ref is None or self.remote is None:
                raise
        # A commit or ref the branches do not hold (refs/pull/1/head, an unmerged sha).
        commit = self.commit_of(ref)
        try:
            when = commit_time(self.git_dir, commit)
        except GitFailed as exc:
            raise SourceError(f"cannot read commit {commit}: {exc}") from None
        return Revision(branch=branch, commit=commit, committed_at=when)

    def checkout(self, revision: Revision) -> GitCheckout:
        return GitCheckout(
            self.git_dir,
            label=self.label,
            revision=revision,
            auth=self.auth,
            sizes=self.sizes,
            root_files=self.root_files,
        )


def open_git(repository: str, *, cache_dir: Path | None = None) -> GitRepository:
    """The git repository behind a URL (cloned or fetched into the cache) or a local path."""
    if is_url(repository):
        remote = parse_remote(repository)
        return GitRepository(cached_clone(remote, cache_dir), remote.label, remote)
    path = Path(repository)
    if not path.exists():
        raise SourceError(f"no such file or directory: {repository}")
    found = probe(path) if path.is_dir() else None
    if found is None:
        raise SourceError(f"not a git repository: {repository}")
    kind, where = found
    if kind == "gitdir":
        return GitRepository(where, local_label(where))
    out = run_git(["rev-parse", "--absolute-git-dir"], cwd=where).stdout
    git_dir = Path(out.decode("utf-8", "surrogateescape").strip())
    return GitRepository(git_dir, local_label(where))


def local_label(path: Path) -> str:
    """How a local repository is named in snapshots and messages: its absolute path (`.` run
    from two places would otherwise make one series of two projects)."""
    return str(path.resolve())
