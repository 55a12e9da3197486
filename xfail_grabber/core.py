"""The one-directional flow: source -> scanner -> Snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from .config import RootDir, Settings, discovery_from_files, under
from .enrich.apply import Enrichment, add_owners, blame_and_tickets, where_of
from .model import Snapshot, utc_now
from .scan.incremental import scan_checkout
from .scan.tickets import link_tickets
from .scan.tree import ScanResult
from .source import Checkout, SourceFile
from .source.cache import ScanCache, open_scan_cache
from .source.commit import Revision
from .source.open import open_source
from .source.subdir import scope_of
from .timings import TIMINGS


class TimedCheckout:
    """A checkout whose listing and reading are charged to the `list` and `read` phases."""

    def __init__(self, inner: Checkout) -> None:
        self.inner = inner
        self.repo = inner.repo
        self.branch = inner.branch
        self.commit = inner.commit
        self.committed_at = inner.committed_at

    def files(self) -> list[SourceFile]:
        with TIMINGS.phase("list"):
            files = self.inner.files()
        TIMINGS.count("listed", len(files))
        return files

    def read(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | str]]:
        return TIMINGS.iterate(self.inner.read(files), "read", "read")

    def read_root_file(self, name: str) -> bytes | None:
        with TIMINGS.phase("read"):
            return self.inner.read_root_file(name)


def snapshot_of(
    checkout: Checkout,
    settings: Settings,
    *,
    workers: int | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
    cache: ScanCache | None = None,
    enrichment: Enrichment | None = None,
) -> Snapshot:
    """Scan an open checkout into a Snapshot (discovery rules read from the checkout).

    `cache` is an open scan cache (see take_snapshot); None scans every file afresh. Owners
    are always added, blame and ticket status as `enrichment` says.
    """
    source = checkout
    rootdir, initial = scope_of(checkout)
    checkout = TimedCheckout(checkout)
    discovery = discovery_from_files(under(checkout.read_root_file, rootdir.path))
    settings = settings.with_discovery(replace(discovery, initial=initial))
    result = scan_checkout(checkout, settings, workers=workers, progress=progress, cache=cache)
    if rootdir.path:
        # pytest's node ids are relative to its rootdir; `path` stays repository-relative.
        records = tuple(
            replace(r, nodeid=relative_nodeid(r.nodeid, rootdir)) for r in result.records
        )
        result = replace(result, records=records)
    snapshot = scanned_snapshot(
        result,
        Revision(checkout.branch, checkout.commit, checkout.committed_at),
        repo=checkout.repo,
        scanned_at=utc_now(),
        markers=settings.kinds,
        read=checkout.read_root_file,
    )
    where = replace(where_of(source), read=checkout.read_root_file)
    return blame_and_tickets(snapshot, where, enrichment or Enrichment())


def scanned_snapshot(
    result: ScanResult,
    revision: Revision,
    *,
    repo: str,
    scanned_at: datetime,
    markers: tuple[str, ...],
    read: Callable[[str], bytes | None],
) -> Snapshot:
    """The Snapshot of a scan, with what every verb adds to its records: ticket links (they
    depend on REPOSITORY) and CODEOWNERS owners (`read(path)` reads the scanned commit's
    files). dump, push and history all build theirs here, so their records agree."""
    snapshot = Snapshot(
        repo=repo,
        branch=revision.branch,
        commit=revision.commit,
        committed_at=revision.committed_at,
        scanned_at=scanned_at,
        markers=markers,
        muted=link_tickets(result.records, repo),
        errors=result.errors,
        files_scanned=result.files_scanned,
        dynamic=result.dynamic,
    )
    return add_owners(snapshot, read)


def relative_nodeid(nodeid: str, rootdir: RootDir) -> str:
    """A repository-relative node id as pytest prints it from `rootdir`."""
    return nodeid.removeprefix(f"{rootdir.path}/") if rootdir.path else nodeid


def take_snapshot(
    repository: str,
    branch: str | None,
    settings: Settings,
    *,
    ref: str | None = None,
    workers: int | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
    enrichment: Enrichment | None = None,
) -> Snapshot:
    """Open the repository (clone if needed), scan it, clean up, return the Snapshot;
    `enrichment` adds blame and ticket status (owners are always added)."""
    with ExitStack() as stack:
        with TIMINGS.phase("resolve"):
            checkout = stack.enter_context(
                open_source(repository, branch, ref, cache_dir=cache_dir)
            )
        cache = stack.enter_context(open_scan_cache(cache_dir))
        return snapshot_of(
            checkout,
            settings,
            workers=workers,
            cache_dir=cache_dir,
            progress=progress,
            cache=cache,
            enrichment=enrichment,
        )
