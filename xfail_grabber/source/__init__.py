"""Where files come from: a git repository at a commit, or a directory on disk.

`open_source()` gives a `Checkout`: a token-free label for the repository, the branch and
commit it stands for, the list of Python files, and a bulk reader. The scanner only ever talks
to this interface, so it never needs to know whether bytes came from git objects or a disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class SourceError(Exception):
    """The repository cannot be read (missing path, unknown branch, clone failed...).

    The message is shown to the user as is: it must be one line and never hold a secret.
    """


@dataclass(frozen=True)
class SourceFile:
    path: str  # repository-relative, POSIX separators
    size: int
    blob_id: str | None = None  # git blob id when read from git objects
    error: str | None = None  # set when the file cannot be scanned at all (e.g. bad symlink)
    tracked: bool = False  # git tracks it (always so when read from git objects)

    @property
    def in_git(self) -> bool:
        return self.tracked or self.blob_id is not None


class Checkout(Protocol):
    repo: str  # token-free label (URL without credentials, or the local path)
    branch: str | None
    commit: str | None
    committed_at: datetime | None

    def files(self) -> list[SourceFile]:
        """Every `.py` file of the tree, sorted by path."""
        ...

    def read(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | str]]:
        """The bytes of each file, in the given order, or an error message for that file."""
        ...

    def read_root_file(self, name: str) -> bytes | None:
        """A file at the repository root (pytest.ini, pyproject.toml...), or None."""
        ...


def display_path(path: str) -> str:
    """A path that is valid text: bytes that are not UTF-8 (kept by the file system as
    surrogate escapes) become `\\xNN`, so records, JSON and cache keys can hold it."""
    if path.isascii():
        return path
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
