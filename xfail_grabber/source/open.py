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
from pathlib import Path

from . import Checkout, SourceError
from .clones import Remote, cached_clone, fetch_ref, is_url, parse_remote
from .git import GitCheckout, Revision, commit_time, head_branch, resolve, rev_parse
from .gitrun import GitFailed, run_git
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
        yield _remote_checkout(parse_remote(repository), branch, ref, cache_dir)
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
        yield DirectoryCheckout(path, label=repository)
        return
    kind, where = found
    if kind == "worktree" and branch is None and ref is None:
        yield worktree_checkout(where, repository)
        return
    git_dir = (
        where
        if kind == "gitdir"
        else Path(run_git(["rev-parse", "--absolute-git-dir"], cwd=where).stdout.decode().strip())
    )
    yield GitCheckout(git_dir, label=repository, revision=resolve(git_dir, branch, ref))


def _remote_checkout(
    remote: Remote, branch: str | None, ref: str | None, cache_dir: Path | None
) -> GitCheckout:
    git_dir = cached_clone(remote, cache_dir)
    try:
        revision = resolve(git_dir, branch, ref)
    except SourceError:
        if ref is None:
            raise
        # A commit or ref the branches do not hold (refs/pull/1/head, an unmerged sha).
        commit = fetch_ref(remote, git_dir, ref)
        if commit is None:
            raise SourceError(f"unknown ref: {ref}") from None
        try:
            when = commit_time(git_dir, commit)
        except GitFailed as exc:
            raise SourceError(f"cannot read commit {commit}: {exc}") from None
        revision = Revision(branch=branch, commit=commit, committed_at=when)
    return GitCheckout(git_dir, label=remote.label, revision=revision, auth=remote.auth)
