"""Opening a repository: a REPOSITORY argument (URL or path) plus BRANCH/--ref.

Top-down, one way: a URL is parsed and checked (remote.py), cloned or fetched into the clone
cache (clones.py), opened as a GitPython `Repo`, then BRANCH/--ref is resolved here and the
commit's files are read by commit.py.

- a URL (https, ssh, file, scp-like): cloned into the clone cache (or fetched), read at the
  commit from git objects; BRANCH defaults to the remote's HEAD;
- a local work tree without BRANCH and --ref: scanned as it is on disk, uncommitted edits
  included, ignored files (.venv, build output) left out;
- a local work tree or bare repository with BRANCH or --ref: read from git objects;
- a directory inside a work tree: the files under it, as on disk or at BRANCH/--ref, named
  from the repository's top (subdir.py);
- a plain directory without BRANCH and --ref: scanned as it is on disk.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from git import Repo
from git.exc import GitError
from git.objects import Commit

from . import Checkout, SourceError, display_path
from .auth import Auth
from .clones import cached_clone, fetch_ref
from .command import LOCAL, git_env, git_for, run
from .commit import GitCheckout, Objects, Revision
from .local import DirectoryCheckout
from .remote import Remote, is_url, parse_remote
from .subdir import SubdirCheckout

log = logging.getLogger("xfail_grabber.git")


def check_name(value: str | None, what: str) -> None:
    """Refuse what git would take for an option or a refspec (a ref, a branch, BASE/HEAD).

    `a:b` would create or move a ref in the shared clone cache, `*` fetch many, a leading `+`
    force an update, a leading `-` be an option.
    """
    if value is not None and (
        not value or value.startswith(("-", "+")) or any(c in value for c in ":*\n\r\0")
    ):
        raise SourceError(f"not a valid {what} name: {value!r}")


def enclosing_worktree(path: Path) -> tuple[Path, Path, str] | None:
    """(top, git_dir, prefix) when `path` is a directory inside a git work tree but not its
    top (`prefix`: its path from the top, as git lists it), else None."""
    proc = run(
        git_for(LOCAL, path),
        ["rev-parse", "--is-inside-work-tree", "--show-toplevel", "--absolute-git-dir",
         "--show-prefix"],
        check=False,
    )  # fmt: skip
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode != 0 or len(lines) < 4 or lines[0] != "true":
        return None
    prefix = lines[3].strip("/")
    if not prefix:
        return None
    return Path(lines[1]), Path(lines[2]), prefix


def probe(path: Path) -> tuple[str, Path, Path] | None:
    """("worktree", top, git_dir) or ("gitdir", git_dir, git_dir) when `path` is the top of a
    repository, else None."""
    proc = run(
        git_for(LOCAL, path),
        ["rev-parse", "--absolute-git-dir", "--is-bare-repository", "--show-toplevel"],
        check=False,
    )
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode != 0 and not lines:
        return None
    here = path.resolve()
    if lines and Path(lines[0]).resolve() == here:
        return ("gitdir", here, here)
    if len(lines) >= 3 and lines[1] == "false" and Path(lines[2]).resolve() == here:
        return ("worktree", here, Path(lines[0]))
    return None


@contextmanager
def open_source(
    repository: str,
    branch: str | None = None,
    ref: str | None = None,
    *,
    cache_dir: Path | None = None,
    timeout: float | None = None,
) -> Iterator[Checkout]:
    """Yield a Checkout for the repository; clean up whatever it needed afterwards."""
    check_name(branch, "branch")
    check_name(ref, "ref")
    if is_url(repository):
        repo = open_git(repository, cache_dir=cache_dir, timeout=timeout)
        try:
            yield repo.checkout(repo.resolve(branch, ref))
        finally:
            repo.close()
        return
    path = Path(repository)
    if not path.exists():
        raise SourceError(f"no such file or directory: {repository}")
    if not path.is_dir():
        raise SourceError(f"not a directory: {repository}")
    found = probe(path)
    if found is None:
        inside = enclosing_worktree(path)
        if inside is not None:
            with open_subdir(path, inside, branch, ref) as checkout:
                yield checkout
            return
        if branch is not None or ref is not None:
            raise SourceError(f"not a git repository: {repository}")
        yield DirectoryCheckout(path, label=local_label(path))
        return
    kind, where, git_dir = found
    repo = GitRepository(_objects(git_dir, None), local_label(where))
    try:
        if kind == "worktree" and branch is None and ref is None:
            yield repo.worktree_checkout(where)
        else:
            yield repo.checkout(repo.resolve(branch, ref))
    finally:
        repo.close()


@contextmanager
def open_subdir(
    path: Path, inside: tuple[Path, Path, str], branch: str | None, ref: str | None
) -> Iterator[Checkout]:
    """A directory inside a git work tree: its files as on disk (without BRANCH and --ref) or
    at that commit, named from the repository's top (see subdir.py)."""
    top, git_dir, prefix = inside
    repo = GitRepository(_objects(git_dir, None), local_label(top))
    label = local_label(path)  # its own series: a directory is not the whole repository
    try:
        if branch is None and ref is None:
            yield SubdirCheckout(repo.worktree_checkout(top, under=prefix), prefix, label=label)
            return
        revision = repo.resolve(branch, ref)
        whole = repo.checkout(revision)
        if not whole.has_directory(display_path(prefix)):
            at = ref or branch or "HEAD"
            raise SourceError(f"no directory {display_path(prefix)} in {top} at {at}")
        yield SubdirCheckout(whole, display_path(prefix), label=label)
    finally:
        repo.close()


def open_git(
    repository: str, *, cache_dir: Path | None = None, timeout: float | None = None
) -> GitRepository:
    """The git repository behind a URL (cloned or fetched into the cache) or a local path."""
    if is_url(repository):
        remote = parse_remote(repository, timeout=timeout)
        git_dir = cached_clone(remote, cache_dir)
        return GitRepository(_objects(git_dir, remote), remote.label, remote)
    path = Path(repository)
    if not path.exists():
        raise SourceError(f"no such file or directory: {repository}")
    found = probe(path) if path.is_dir() else None
    if found is None:
        inside = enclosing_worktree(path) if path.is_dir() else None
        if inside is not None:
            # history and diff walk commits of a whole repository.
            raise SourceError(
                f"not the top of a git repository: {repository} (a directory inside "
                f"{inside[0]}; give that)"
            )
        raise SourceError(f"not a git repository: {repository}")
    _, where, git_dir = found
    return GitRepository(_objects(git_dir, None), local_label(where))


def _objects(git_dir: Path, remote: Remote | None) -> Objects:
    network = remote.network if remote is not None else LOCAL
    try:
        repo = Repo(git_dir)
    except GitError as exc:
        raise SourceError(f"not a git repository: {git_dir} ({type(exc).__name__})") from None
    repo.git.update_environment(**git_env(network))
    return Objects(git_dir, repo, network)


@dataclass(frozen=True)
class GitRepository:
    """A git repository to read one or many commits from (dump, history, diff)."""

    objects: Objects
    label: str
    remote: Remote | None = None

    @property
    def git_dir(self) -> Path:
        return self.objects.git_dir

    @property
    def auth(self) -> Auth | None:
        return self.remote.auth if self.remote else None

    def close(self) -> None:
        """End GitPython's persistent cat-file processes."""
        self.objects.repo.close()

    def output(self, args: list[str]) -> bytes:
        """stdout of a local git command in this repository (`log`, `diff`...)."""
        return self.objects.output(args)

    def prefetch(self, commits: list[str], oids: set[str]) -> None:
        """In a partial clone, fetch the blobs of these commits a scan reads, in one batch."""
        from .commit import prefetch_blobs

        prefetch_blobs(self.objects, commits, oids)

    # -- refs -----------------------------------------------------------------------------

    def rev_parse(self, rev: str) -> str | None:
        """The commit a commit-ish names, or None."""
        proc = run(
            self.objects.git,
            ["rev-parse", "-q", "--verify", "--end-of-options", f"{rev}^{{commit}}"],
            git_dir=self.git_dir,
            check=False,
        )
        if proc.returncode != 0:
            return None
        return proc.stdout.decode().strip() or None

    def head_branch(self) -> str | None:
        """The branch HEAD points to (None when detached)."""
        try:
            return str(self.objects.repo.head.reference.name)
        except (TypeError, ValueError, GitError):  # detached, or not a symbolic ref
            return None

    def commit_time(self, commit: str) -> datetime:
        """When a commit was made, read through GitPython's persistent cat-file."""
        try:
            stamp = Commit(self.objects.repo, bytes.fromhex(commit)).committed_date
        except (GitError, ValueError) as exc:
            raise SourceError(f"cannot read commit {commit}: {type(exc).__name__}") from None
        return datetime.fromtimestamp(int(stamp), UTC)

    def commit_of(self, rev: str) -> str:
        """The commit a branch, tag or commit-ish names (fetched when a URL's branches lack it)."""
        check_name(rev, "ref")
        commit = self.rev_parse(rev)
        if commit is None and self.remote is not None:
            commit = fetch_ref(self.remote, self.git_dir, rev)
        if commit is None:
            raise SourceError(f"unknown ref: {rev}")
        return commit

    def resolve(self, branch: str | None, ref: str | None = None) -> Revision:
        """Resolve BRANCH / --ref; SourceError when they name nothing."""
        check_name(branch, "branch")
        check_name(ref, "ref")
        if ref is not None:
            commit = self.rev_parse(ref)
            if commit is None and self.remote is not None:
                # A commit or ref the branches do not hold (refs/pull/1/head, an unmerged sha).
                commit = self.commit_of(ref)
            if commit is None:
                raise SourceError(f"unknown ref: {ref}{self._why_missing()}")
            return Revision(branch, commit, self.commit_time(commit))
        if branch is not None:
            for candidate in (
                f"refs/heads/{branch}",
                f"refs/remotes/origin/{branch}",
                f"refs/tags/{branch}",
            ):
                commit = self.rev_parse(candidate)
                if commit is not None:
                    return Revision(branch, commit, self.commit_time(commit))
            raise SourceError(f"unknown branch: {branch}{self._why_missing()}")
        label = self.head_branch()
        commit = self.rev_parse("HEAD")
        if commit is None:
            if not self._empty():
                raise SourceError(f"HEAD names no commit; give a branch (HEAD -> {label})")
            return Revision(label, None, None)
        return Revision(label, commit, self.commit_time(commit))

    def _empty(self) -> bool:
        return (
            self.rev_parse("HEAD") is None
            and not self.output(["for-each-ref", "--count=1", "--format=%(refname)"]).strip()
        )

    def _why_missing(self) -> str:
        if self._empty():
            return " (the repository is empty)"
        if (self.git_dir / "shallow").is_file():
            return " (the repository is a shallow clone; older commits are not in it)"
        return ""

    # -- checkouts ------------------------------------------------------------------------

    def checkout(self, revision: Revision) -> GitCheckout:
        return GitCheckout(self.objects, label=self.label, revision=revision)

    def worktree_checkout(self, top: Path, *, under: str = "") -> DirectoryCheckout:
        """A work tree as it is on disk: tracked and untracked files, ignored ones left out
        (`under`: only those in that directory, named from the top)."""
        out = run(
            git_for(LOCAL, top), ["ls-files", "-co", "--exclude-standard", "-z", "--", "*.py"]
        ).stdout
        names = {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}
        if under:
            names = {p for p in names if p.startswith(under + "/")}
        out = run(git_for(LOCAL, top), ["ls-files", "-c", "-z", "--", "*.py"]).stdout
        tracked = {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}
        # Tracked files deleted on disk are gone from the tree "as it is on disk".
        paths = sorted(p for p in names if os.path.lexists(top / p))
        commit = self.rev_parse("HEAD")
        return DirectoryCheckout(
            top,
            label=self.label,
            branch=self.head_branch(),
            commit=commit,
            committed_at=self.commit_time(commit) if commit else None,
            paths=paths,
            tracked=tracked,
        )


def worktree_checkout(top: Path, label: str) -> DirectoryCheckout:
    """The work tree at `top` as it is on disk (see `GitRepository.worktree_checkout`)."""
    found = probe(top)
    if found is None or found[0] != "worktree":
        raise SourceError(f"not a git work tree: {top}")
    repo = GitRepository(_objects(found[2], None), label)
    try:
        return repo.worktree_checkout(top)
    finally:
        repo.close()


def local_label(path: Path) -> str:
    """How a local repository is named in snapshots and messages: its absolute path (`.` run
    from two places would otherwise make one series of two projects)."""
    return str(path.resolve())
