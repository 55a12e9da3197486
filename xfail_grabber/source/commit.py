"""Reading the files of one commit straight from git objects (no checkout).

`GitCheckout` lists the tree with `git ls-tree` and streams the bytes of thousands of blobs
through ONE `git cat-file --batch` process, ids written ahead in windows while the answers
are read (the hot path of every scan of a git repository: GitPython's persistent reader asks
for one object at a time and waits for each, a round trip per file). Root configuration files
and commit times come from GitPython's persistent `cat-file --batch` reader of the `Repo`.
In a partial clone (`--filter=blob:none`) the `.py` blobs of the commit are fetched in one
batch first, instead of one lazy fetch per blob.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from git import Git, Repo
from git.exc import GitError

from ..config import PYTEST_CONFIG_FILES
from . import SourceError, SourceFile, display_path
from .command import GitFailed, Network, run, start

log = logging.getLogger("xfail_grabber.git")

SYMLINK_MODE = "120000"
# cat-file requests written ahead of the answers read, _CHUNK at a time: _WINDOW ids of 41
# bytes (10.5 KB) fit in any common pipe buffer (64 KiB on Linux, 16 KiB at least on macOS).
_CHUNK = 128
_WINDOW = 256
# Root files read besides .py files: the pytest configuration the scanner looks for, and
# grabber's own settings (one list, so a config file config.py learns is also read here).
ROOT_FILES = (*PYTEST_CONFIG_FILES, "grabber.toml")


@dataclass(frozen=True)
class Objects:
    """The object store commits are read from: a git directory, GitPython's Repo over it,
    the environment of its git processes, and what was learnt about blobs (they never
    change, so every checkout of one repository shares it)."""

    git_dir: Path
    repo: Repo
    network: Network
    sizes: dict[str, int] = field(default_factory=dict, compare=False)  # blob id -> size
    root_files: dict[str, bytes] = field(default_factory=dict, compare=False)

    @property
    def git(self) -> Git:
        return self.repo.git

    def output(self, args: list[str], *, input: bytes | None = None) -> bytes:
        """stdout of a local git command in this repository."""
        return run(self.git, args, git_dir=self.git_dir, input=input, network=self.network).stdout

    def blob(self, oid: str) -> bytes | None:
        """One object's bytes through GitPython's persistent `cat-file --batch`."""
        try:
            _, kind, _, data = self.git.get_object_data(oid)
        except (GitError, ValueError, OSError):
            return None
        return data if kind in (b"blob", "blob") else None

    def is_promisor(self) -> bool:
        """A partial clone: objects may be missing locally and fetched on demand."""
        return any((self.git_dir / "objects" / "pack").glob("*.promisor"))


@dataclass(frozen=True)
class Revision:
    """What BRANCH/--ref resolved to. `commit` is None for an empty repository."""

    branch: str | None
    commit: str | None
    committed_at: datetime | None


@dataclass(frozen=True)
class _Entry:
    mode: str
    kind: str
    oid: str
    path: str


class GitCheckout:
    """The files of one commit of a repository, read from git objects."""

    def __init__(self, objects: Objects, *, label: str, revision: Revision) -> None:
        self.objects = objects
        self.git_dir = objects.git_dir
        self.repo = label
        self.branch = revision.branch
        self.commit = revision.commit
        self.committed_at = revision.committed_at
        self._files: list[SourceFile] | None = None
        self._tree_entries: list[_Entry] | None = None
        # blob id -> size; a blob never changes, so checkouts of one repository share it.
        self._known_sizes = objects.sizes
        self._root_files = objects.root_files  # blob id -> bytes
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
        out = self.objects.output(["ls-tree", "-r", "-z", self.commit])
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
        if self.objects.is_promisor():
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
        out = self.objects.output(["cat-file", "--batch-check"], input=data)
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

    def has_directory(self, path: str) -> bool:
        """Whether the commit holds a directory at `path` (as paths are shown)."""
        return any(e.path.startswith(path + "/") for e in self._entries())

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
            prefetch_blobs(self.objects, [self.commit], oids)

    # -- reading ------------------------------------------------------------------------

    def read(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | str]]:
        items = list(files)
        wanted = [f for f in items if f.blob_id and not f.error]
        if not wanted:
            for item in items:
                yield item, item.error or "not a git blob"
            return
        proc = start(self.objects.git, ["cat-file", "--batch"], git_dir=self.git_dir)
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
            for pipe in (stdin, stdout, proc.stderr):
                with contextlib.suppress(OSError, ValueError):
                    if pipe is not None:
                        pipe.close()

    def read_root_file(self, name: str) -> bytes | None:
        if self._files is None:
            self.files()
        oid = self._blobs.get(name)
        if oid is None:
            return None
        if oid not in self._root_files:
            data = self.objects.blob(oid)
            if data is None:
                return None
            self._root_files[oid] = data
        return self._root_files[oid]


def prefetch_blobs(objects: Objects, commits: list[str], oids: set[str]) -> None:
    """Fetch the blobs a partial clone lacks, in one request rather than one per blob."""
    if not commits or not oids or not objects.is_promisor():
        return
    out = objects.output(["rev-list", "--objects", "--missing=print", "--no-walk", *commits])
    missing = sorted(
        oids
        & {line[1:] for line in out.decode("ascii", "replace").splitlines() if line.startswith("?")}
    )
    fetch_blobs(objects, missing, commits[0])


def history_blobs(objects: Objects, commit: str, paths: list[str]) -> list[str]:
    """The blobs of every version of `paths` up to `commit` that a partial clone lacks
    (what `git blame` of those paths would otherwise fetch one by one)."""
    if not paths or not objects.is_promisor():
        return []
    out = objects.output(["rev-list", "--objects", "--missing=print", commit, "--", *paths])
    lines = out.decode("ascii", "replace").splitlines()
    return sorted({line[1:] for line in lines if line.startswith("?")})


def fetch_blobs(objects: Objects, missing: list[str], commit: str) -> None:
    """Fetch these blobs from the partial clone's remote, in one request."""
    if not missing:
        return
    log.info("fetching %d blobs", len(missing))
    network = objects.network
    try:
        run(
            objects.git,
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
            git_dir=objects.git_dir,
            input=("\n".join(missing) + "\n").encode(),
            network=network,
            timeout=network.timeout,
        )
    except GitFailed as exc:
        raise SourceError(f"cannot fetch the files of {commit[:12]}: {exc}") from None


class BlobSet(GitCheckout):
    """Chosen blobs of a repository under unique paths, from no one commit.

    `grabber history` scans the file versions new to a range of commits in a few large
    batches through this, so that each commit's own scan then finds them in the scan cache.
    """

    def __init__(self, objects: Objects, files: list[SourceFile], *, label: str) -> None:
        super().__init__(objects, label=label, revision=Revision(None, None, None))
        self._files = sorted(files, key=lambda f: f.path)

    def read_root_file(self, name: str) -> bytes | None:
        return None
