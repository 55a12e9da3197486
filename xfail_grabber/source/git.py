"""Reading a git repository at a commit straight from its objects (no checkout).

`GitCheckout` lists the tree with `git ls-tree` and streams the bytes of thousands of blobs
through ONE `git cat-file --batch` process (a writer thread feeds object ids while the
reader parses the answers), which is the hot path of every scan of a git repository.
In a partial clone (`--filter=blob:none`) the `.py` blobs of the commit are fetched in one
batch first, instead of one lazy fetch per blob.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import posixpath
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import SourceError, SourceFile, display_path
from .gitrun import Auth, GitFailed, git_env, git_text, run_git

log = logging.getLogger("xfail_grabber.git")

SYMLINK_MODE = "120000"
# cat-file requests written ahead of the answers read, _CHUNK at a time: _WINDOW ids of 41
# bytes (10.5 KB) fit in any common pipe buffer (64 KiB on Linux, 16 KiB at least on macOS).
_CHUNK = 128
_WINDOW = 256
# Root files read besides .py files (pytest configuration, grabber settings).
ROOT_FILES = (
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
    "grabber.toml",
)


@dataclass(frozen=True)
class Revision:
    """What BRANCH/--ref resolved to. `commit` is None for an empty repository."""

    branch: str | None
    commit: str | None
    committed_at: datetime | None


def commit_time(git_dir: Path, commit: str) -> datetime:
    stamp = git_text(["show", "-s", "--format=%ct", commit], git_dir=git_dir)
    return datetime.fromtimestamp(int(stamp), UTC)


def rev_parse(git_dir: Path, rev: str) -> str | None:
    """The commit a commit-ish names, or None."""
    proc = run_git(
        ["rev-parse", "-q", "--verify", "--end-of-options", f"{rev}^{{commit}}"],
        git_dir=git_dir,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().strip() or None


def head_branch(git_dir: Path) -> str | None:
    """The branch HEAD points to (None when detached)."""
    proc = run_git(["symbolic-ref", "-q", "--short", "HEAD"], git_dir=git_dir, check=False)
    name = proc.stdout.decode("utf-8", "replace").strip()
    return name or None


def resolve(git_dir: Path, branch: str | None, ref: str | None) -> Revision:
    """Resolve BRANCH / --ref in a repository; SourceError when they name nothing."""
    empty = rev_parse(git_dir, "HEAD") is None and not git_text(
        ["for-each-ref", "--count=1", "--format=%(refname)"], git_dir=git_dir
    )
    if ref is not None:
        commit = rev_parse(git_dir, ref)
        if commit is None:
            raise SourceError(f"unknown ref: {ref}{_why_missing(git_dir, empty)}")
        label = branch
    elif branch is not None:
        commit = None
        for candidate in (
            f"refs/heads/{branch}",
            f"refs/remotes/origin/{branch}",
            f"refs/tags/{branch}",
        ):
            commit = rev_parse(git_dir, candidate)
            if commit is not None:
                break
        if commit is None:
            raise SourceError(f"unknown branch: {branch}{_why_missing(git_dir, empty)}")
        label = branch
    else:
        label = head_branch(git_dir)
        commit = rev_parse(git_dir, "HEAD")
        if commit is None and not empty:
            raise SourceError(f"HEAD names no commit; give a branch (HEAD -> {label})")
    when = commit_time(git_dir, commit) if commit else None
    return Revision(branch=label, commit=commit, committed_at=when)


def _why_missing(git_dir: Path, empty: bool) -> str:
    if empty:
        return " (the repository is empty)"
    if (git_dir / "shallow").is_file():
        return " (the repository is a shallow clone; older commits are not in it)"
    return ""


def is_promisor(git_dir: Path) -> bool:
    """A partial clone: objects may be missing locally and fetched on demand."""
    return any((git_dir / "objects" / "pack").glob("*.promisor"))


@dataclass(frozen=True)
class _Entry:
    mode: str
    kind: str
    oid: str
    path: str


class GitCheckout:
    """The files of one commit of a repository, read from git objects."""

    def __init__(
        self,
        git_dir: Path,
        *,
        label: str,
        revision: Revision,
        auth: Auth | None = None,
        sizes: dict[str, int] | None = None,
        root_files: dict[str, bytes] | None = None,
    ) -> None:
        self.git_dir = git_dir
        self.repo = label
        self.branch = revision.branch
        self.commit = revision.commit
        self.committed_at = revision.committed_at
        self._auth = auth or Auth()
        self._files: list[SourceFile] | None = None
        self._tree_entries: list[_Entry] | None = None
        # blob id -> size; a blob never changes, so checkouts of one repository share it.
        self._known_sizes = sizes if sizes is not None else {}
        self._root_files = root_files if root_files is not None else {}  # blob id -> bytes
        self._blobs: dict[str, str] = {}  # path -> blob id, every blob of the tree

    @property
    def revision(self) -> Revision:
        return Revision(self.branch, self.commit, self.committed_at)

    # -- listing ------------------------------------------------------------------------

    def _entries(self) -> list[_Entry]:
        if self._tree_entries is None:
            self._tree_entries = self._tree()
        return self._tree_entries

    def _tree(self) -> list[_Entry]:
        if self.commit is None:
            return []
        out = run_git(["ls-tree", "-r", "-z", self.commit], git_dir=self.git_dir).stdout
        entries = []
        # "<mode> <type> <oid>\t<path>" records; paths are bytes (any encoding).
        text = out.decode("utf-8", "surrogateescape")
        shown = (lambda path: path) if text.isascii() else display_path
        for record in text.split("\0"):
            if record:
                head, _, path = record.partition("\t")
                mode, kind, oid = head.split(" ")
                entries.append(_Entry(mode, kind, oid, shown(path)))
        return entries

    def files(self) -> list[SourceFile]:
        if self._files is not None:
            return list(self._files)
        entries = self._entries()
        self._blobs = {e.path: e.oid for e in entries if e.kind == "blob"}
        wanted = [e for e in entries if e.kind == "blob" and e.path.endswith(".py")]
        roots = [e for e in entries if e.kind == "blob" and e.path in ROOT_FILES]
        if is_promisor(self.git_dir):
            self._prefetch({e.oid for e in wanted + roots})
        links = [e for e in wanted if e.mode == SYMLINK_MODE]
        plain = [e for e in wanted if e.mode != SYMLINK_MODE]
        sizes = self._sizes({e.oid for e in plain})
        result = [
            SourceFile(path=e.path, size=sizes.get(e.oid, 0), blob_id=e.oid)
            if e.oid in sizes
            else SourceFile(
                path=e.path, size=0, blob_id=e.oid, error="blob missing from the repository"
            )
            for e in plain
        ]
        result.extend(self._symlinks(links))
        result.sort(key=lambda f: f.path)
        self._files = result
        return list(result)

    def _sizes(self, oids: set[str]) -> dict[str, int]:
        known = self._known_sizes
        unknown = oids - known.keys()
        if unknown:
            known.update(self._ask_sizes(unknown))
        return {oid: known[oid] for oid in oids if oid in known}

    def _ask_sizes(self, oids: set[str]) -> dict[str, int]:
        data = "\n".join(sorted(oids)).encode() + b"\n"
        out = run_git(
            ["cat-file", "--batch-check"], git_dir=self.git_dir, input=data, auth=self._auth
        ).stdout
        sizes = {}
        for line in out.decode("ascii", "replace").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "blob":
                sizes[parts[0]] = int(parts[2])
        return sizes

    def _symlinks(self, links: list[_Entry]) -> list[SourceFile]:
        """A symlink inside the tree is skipped (its target is scanned); others are errors."""
        result = []
        fake = [SourceFile(path=e.path, size=0, blob_id=e.oid) for e in links]
        for item, data in self.read(fake):
            if isinstance(data, str):
                result.append(SourceFile(item.path, 0, item.blob_id, error=data))
                continue
            target = data.decode("utf-8", "surrogateescape")
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(item.path), target))
            if target.startswith("/") or joined == ".." or joined.startswith("../"):
                error = "symlink points outside the repository; not followed"
            elif joined in self._blobs:
                continue
            else:
                error = "symlink does not point to a file"
            result.append(SourceFile(item.path, 0, item.blob_id, error=error))
        return result

    def content_key(self) -> str:
        """Equal for two commits whose .py files and root config files are the same."""
        digest = hashlib.sha256()
        for item in self.files():
            digest.update(f"{item.path}\0{item.blob_id}\0{item.error or ''}\n".encode())
        for name in ROOT_FILES:
            digest.update(f"{name}\0{self._blobs.get(name)}\n".encode())
        return digest.hexdigest()

    def wanted_blobs(self) -> set[str]:
        """The blob ids a scan of this commit reads (.py files and root config files)."""
        return {
            e.oid
            for e in self._entries()
            if e.kind == "blob" and (e.path.endswith(".py") or e.path in ROOT_FILES)
        }

    def _prefetch(self, oids: set[str]) -> None:
        if self.commit is not None:
            prefetch_blobs(self.git_dir, [self.commit], oids, self._auth)

    # -- reading ------------------------------------------------------------------------

    def read(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | str]]:
        items = list(files)
        wanted = [f for f in items if f.blob_id and not f.error]
        if not wanted:
            for item in items:
                yield item, item.error or "not a git blob"
            return
        proc = subprocess.Popen(
            ["git", "--git-dir", str(self.git_dir), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=git_env(self._auth),
        )
        assert proc.stdin is not None and proc.stdout is not None
        stdin, stdout = proc.stdin, proc.stdout
        # No writer thread (a running thread makes the scanner's worker pool avoid fork): ids
        # are written ahead in windows small enough for the pipe to hold them all, so a write
        # never blocks while git waits for us to read.
        sent = 0

        def send_ahead(received: int) -> None:
            nonlocal sent
            while sent < len(wanted) and sent - received < _WINDOW:
                chunk = wanted[sent : sent + _CHUNK]
                stdin.write("".join(f"{f.blob_id}\n" for f in chunk).encode("ascii"))
                sent += len(chunk)
            stdin.flush()
            if sent == len(wanted):
                stdin.close()

        received = 0
        try:
            send_ahead(0)
            for item in items:
                if not item.blob_id or item.error:
                    yield item, item.error or "not a git blob"
                    continue
                if sent < len(wanted) and sent - received <= _WINDOW - _CHUNK:
                    send_ahead(received)
                header = stdout.readline().decode("ascii", "replace").split()
                received += 1
                if len(header) == 2 and header[1] == "missing":
                    yield item, "blob missing from the repository"
                    continue
                if len(header) != 3:
                    raise SourceError(f"git cat-file stopped while reading {item.path}")
                size = int(header[2])
                data = stdout.read(size)
                stdout.read(1)  # the newline after each object
                if len(data) != size:
                    raise SourceError(f"git cat-file stopped while reading {item.path}")
                yield item, data
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (stdin, stdout):
                with contextlib.suppress(OSError, ValueError):
                    pipe.close()

    def read_root_file(self, name: str) -> bytes | None:
        if self._files is None:
            self.files()
        oid = self._blobs.get(name)
        if oid is None:
            return None
        if oid not in self._root_files:
            try:
                self._root_files[oid] = run_git(
                    ["cat-file", "blob", oid], git_dir=self.git_dir, auth=self._auth
                ).stdout
            except GitFailed:
                return None
        return self._root_files[oid]


def prefetch_blobs(git_dir: Path, commits: list[str], oids: set[str], auth: Auth | None) -> None:
    """Fetch the blobs a partial clone lacks, in one request rather than one per blob."""
    if not commits or not oids or not is_promisor(git_dir):
        return
    out = run_git(
        ["rev-list", "--objects", "--missing=print", "--no-walk", *commits], git_dir=git_dir
    ).stdout.decode("ascii", "replace")
    missing = sorted(oids & {line[1:] for line in out.splitlines() if line.startswith("?")})
    if not missing:
        return
    log.info("fetching %d blobs", len(missing))
    run_git(
        [
            "-c",
            "fetch.negotiationAlgorithm=noop",
            "fetch",
            "origin",
            "--no-tags",
            "--no-write-fetch-head",
            "--recurse-submodules=no",
            "--filter=blob:none",
            "--stdin",
        ],
        git_dir=git_dir,
        input=("\n".join(missing) + "\n").encode(),
        auth=auth,
    )


class BlobSet(GitCheckout):
    """Chosen blobs of a repository under unique paths, from no one commit.

    `grabber history` scans the file versions new to a range of commits in a few large
    batches through this, so that each commit's own scan then finds them in the scan cache.
    """

    def __init__(
        self, git_dir: Path, files: list[SourceFile], *, label: str, auth: Auth | None = None
    ) -> None:
        super().__init__(git_dir, label=label, revision=Revision(None, None, None), auth=auth)
        self._files = sorted(files, key=lambda f: f.path)

    def read_root_file(self, name: str) -> bytes | None:
        return None
