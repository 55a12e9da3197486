"""Turn a REPOSITORY argument (URL or path) plus BRANCH/--ref into a Checkout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import Checkout, SourceError
from .local import DirectoryCheckout


@contextmanager
def open_source(
    repository: str,
    branch: str | None = None,
    ref: str | None = None,
    *,
    cache_dir: Path | None = None,
) -> Iterator[Checkout]:
    """Yield a Checkout for the repository; clean up whatever it needed afterwards."""
    path = Path(repository)
    if "://" not in repository and ":" not in repository.split("/")[0]:
        if not path.exists():
            raise SourceError(f"no such file or directory: {repository}")
        if not path.is_dir():
            raise SourceError(f"not a directory: {repository}")
        if branch is None and ref is None and not (path / ".git").exists():
            yield DirectoryCheckout(path, label=repository)
            return
    raise SourceError("git repositories are not supported yet")
