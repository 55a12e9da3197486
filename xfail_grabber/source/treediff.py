"""What changed between two commits: `git diff-tree -r -M` as data.

History walks a branch commit after commit; between two of them usually a few percent of the
files change. One diff-tree call says which, with the blob ids before and after, so a scan
of the next commit starts from the previous one instead of listing and reading the tree again.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import SourceError, display_path
from .command import LOCAL, Network, git_for, run
from .command import start as start_git

NO_BLOB = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's id of the tree with no entry


@dataclass(frozen=True)
class Change:
    """One path that differs. `status`: A added, D deleted, M modified, T type changed
    (file <-> symlink), R renamed (with `score`, the similarity in percent)."""

    status: str
    path: str  # the path in the new commit (for D: the deleted path)
    old_path: str | None  # the path in the old commit (None for A)
    old_blob: str | None
    new_blob: str | None
    old_mode: str
    new_mode: str
    score: int | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path this change touches, old and new."""
        if self.old_path is None or self.old_path == self.path:
            return (self.path,)
        return (self.old_path, self.path)


def tree_diff(
    git_dir: Path,
    old: str,
    new: str,
    *,
    renames: bool = True,
    network: Network = LOCAL,
) -> list[Change]:
    """The files that differ between commits `old` and `new` (recursively, blobs only).

    With `renames`, git pairs a deleted and an added file of similar content as one R change
    (`-M`); in a partial clone that needs the blobs' contents, so fetch them first or pass
    `renames=False`.
    """
    args = ["diff-tree", "-r", "-z", "--no-commit-id", "--no-ext-diff"]
    args.append("-M" if renames else "--no-renames")
    out = run(git_for(network), [*args, old, new, "--"], git_dir=git_dir, network=network).stdout
    return parse_raw(out)


def tree_entries(git_dir: Path, commit: str, *, network: Network = LOCAL) -> list[Change]:
    """Every file of a commit as an A change (with its mode): the diff from the empty tree."""
    return tree_diff(git_dir, EMPTY_TREE, commit, renames=False, network=network)


class BlobSizes:
    """Blob sizes through one long-lived `git cat-file --batch-check` (a walk over many
    commits asks for a few hundred at each; a process per commit would cost more)."""

    _CHUNK = 256  # ids written before their answers are read: far below a pipe's buffer

    def __init__(self, git_dir: Path, network: Network = LOCAL) -> None:
        self.git_dir = git_dir
        self.network = network
        self._proc: subprocess.Popen[bytes] | None = None

    def get(self, oids: Iterable[str]) -> dict[str, int]:
        """blob id -> size, for the ids the repository holds."""
        wanted = sorted(set(oids))
        sizes: dict[str, int] = {}
        if not wanted:
            return sizes
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        for start in range(0, len(wanted), self._CHUNK):
            chunk = wanted[start : start + self._CHUNK]
            proc.stdin.write("".join(f"{oid}\n" for oid in chunk).encode("ascii"))
            proc.stdin.flush()
            for _ in chunk:
                parts = proc.stdout.readline().decode("ascii", "replace").split()
                if not parts:
                    raise SourceError("git cat-file --batch-check stopped")
                if len(parts) == 3 and parts[1] == "blob":
                    sizes[parts[0]] = int(parts[2])
        return sizes

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = start_git(
                git_for(self.network), ["cat-file", "--batch-check"], git_dir=self.git_dir
            )
        return self._proc

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                if pipe is not None:
                    pipe.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def parse_raw(out: bytes) -> list[Change]:
    """Parse `git diff-tree -r -z` raw output (":old new oid oid status\\0path\\0[path\\0]")."""
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    result: list[Change] = []
    at = 0
    while at < len(fields) and fields[at]:
        head = fields[at]
        if not head.startswith(":"):
            raise ValueError(f"unexpected diff-tree output: {head[:80]!r}")
        old_mode, new_mode, old_oid, new_oid, status = head[1:].split(" ")
        letter, score = status[0], int(status[1:]) if status[1:].isdigit() else None
        first = display_path(fields[at + 1])
        if letter in "RC":
            second = display_path(fields[at + 2])
            at += 3
        else:
            second = first
            at += 2
        result.append(
            Change(
                status=letter,
                path=second,
                old_path=None if letter == "A" else first,
                old_blob=None if old_oid == NO_BLOB else old_oid,
                new_blob=None if new_oid == NO_BLOB else new_oid,
                old_mode=old_mode,
                new_mode=new_mode,
                score=score,
            )
        )
    return result
