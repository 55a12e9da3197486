"""One directory of a repository (`grabber dump ./repo/tests`), seen as `pytest tests` sees it
when run at the repository's top.

The files are those under the directory, named from the repository's top (`tests/unit/
test_a.py`, so CODEOWNERS, blame and policy globs match them as in a whole-repository scan).
pytest's rootdir and config file are found from the directory upwards (config.find_rootdir);
node ids are relative to that rootdir, as pytest prints them (core.snapshot_of).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import Any

from ..config import RootDir, find_rootdir
from . import Checkout, SourceFile, display_path


class SubdirCheckout:
    """The files of `inner` (a checkout of the whole repository) under `prefix`.

    `prefix` is repository-relative, in the form `inner.read_root_file` takes (as listed on
    disk for a work tree, as shown for git objects). Everything else (git_dir, objects, root,
    used by blame) is the inner checkout's.
    """

    def __init__(self, inner: Checkout, prefix: str, *, label: str) -> None:
        self.inner = inner
        self.prefix = display_path(prefix.strip("/"))  # as paths and node ids show it
        self._read_prefix = prefix.strip("/")
        self.repo = label
        self.branch = inner.branch
        self.commit = inner.commit
        self.committed_at = inner.committed_at

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    @functools.cached_property
    def rootdir(self) -> RootDir:
        """pytest's rootdir and config file for `pytest PREFIX` run at the repository's top."""
        found = find_rootdir(self.inner.read_root_file, self._read_prefix)
        config = display_path(found.config) if found.config is not None else None
        return RootDir(display_path(found.path), config)

    def holds(self, path: str) -> bool:
        return path.startswith(self.prefix + "/")

    def files(self) -> list[SourceFile]:
        return [f for f in self.inner.files() if self.holds(f.path)]

    def read(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | str]]:
        return self.inner.read(files)

    def read_root_file(self, name: str) -> bytes | None:
        """A file of the repository (CODEOWNERS, grabber.toml...), named from its top."""
        return self.inner.read_root_file(name)


def scope_of(checkout: object) -> tuple[RootDir, str]:
    """pytest's rootdir for a checkout, and the directory pytest is pointed at (both "" for a
    whole repository, whose top is where pytest runs)."""
    if isinstance(checkout, SubdirCheckout):
        return checkout.rootdir, checkout.prefix
    return RootDir(), ""
