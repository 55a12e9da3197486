"""A directory on disk, scanned as it is (uncommitted edits included)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from ..config import read_config_file
from . import SourceError, SourceFile, display_path


class DirectoryCheckout:
    """Files of a directory tree; symlinks leaving the tree are reported, not followed."""

    def __init__(
        self,
        root: Path,
        *,
        label: str | None = None,
        branch: str | None = None,
        commit: str | None = None,
        committed_at: datetime | None = None,
        paths: Iterable[str] | None = None,
        tracked: Iterable[str] = (),
    ) -> None:
        if not root.is_dir():
            raise SourceError(f"not a directory: {root}")
        self.root = root.resolve()
        self.repo = label or str(root)
        self.branch = branch
        self.commit = commit
        self.committed_at = committed_at
        self._paths = sorted(paths) if paths is not None else None
        self._tracked = frozenset(tracked)
        self._real: dict[str, str] = {}  # display path -> path on disk, where they differ

    def _walk(self) -> Iterator[str]:
        def unreadable(error: OSError) -> None:
            # A root we may not list is an error (it scanned as empty, exit 0); deeper
            # unreadable directories are skipped as before.
            if error.filename is not None and Path(error.filename) == self.root:
                raise error

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=unreadable):
            # Hidden directories (.git, .venv, .tox) never hold the repository's tests.
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = os.path.relpath(dirpath, self.root)
            for name in filenames:
                if name.endswith(".py"):
                    yield name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")

    def files(self) -> list[SourceFile]:
        paths = self._paths if self._paths is not None else sorted(self._walk())
        result = []
        for rel in paths:
            if not rel.endswith(".py"):
                continue
            full = self.root / rel
            error = None
            size = 0
            try:
                if full.is_symlink():
                    target = full.resolve()
                    if not target.is_relative_to(self.root):
                        error = "symlink points outside the repository; not followed"
                    elif not target.is_file():
                        error = "symlink does not point to a file"
                if error is None:
                    size = full.stat().st_size
            except (OSError, RuntimeError) as exc:
                error = f"cannot read: {exc.strerror if isinstance(exc, OSError) else exc}"
            if error is None and not full.is_file():
                continue
            shown = display_path(rel)
            if shown != rel:
                self._real[shown] = rel
            result.append(
                SourceFile(path=shown, size=size, error=error, tracked=rel in self._tracked)
            )
        return result

    def read(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | str]]:
        for item in files:
            try:
                yield item, (self.root / self._real.get(item.path, item.path)).read_bytes()
            except OSError as exc:
                yield item, f"cannot read: {exc.strerror or exc}"

    def read_root_file(self, name: str) -> bytes | None:
        return read_config_file(self.root / name)
