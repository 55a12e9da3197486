"""The one-directional flow: source -> scanner -> Snapshot."""

from __future__ import annotations

from pathlib import Path

from .config import Settings, discovery_from_files
from .model import Snapshot, utc_now
from .scan.tree import scan_checkout
from .source import Checkout
from .source.cache import ScanCache, open_scan_cache
from .source.open import open_source


def snapshot_of(
    checkout: Checkout,
    settings: Settings,
    *,
    workers: int | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
    cache: ScanCache | None = None,
) -> Snapshot:
    """Scan an open checkout into a Snapshot (discovery rules read from the checkout).

    `cache` is an open scan cache (see take_snapshot); None scans every file afresh.
    """
    settings = settings.with_discovery(discovery_from_files(checkout.read_root_file))
    result = scan_checkout(checkout, settings, workers=workers, progress=progress, cache=cache)
    return Snapshot(
        repo=checkout.repo,
        branch=checkout.branch,
        commit=checkout.commit,
        committed_at=checkout.committed_at,
        scanned_at=utc_now(),
        markers=settings.kinds,
        muted=result.records,
        errors=result.errors,
        files_scanned=result.files_scanned,
    )


def take_snapshot(
    repository: str,
    branch: str | None,
    settings: Settings,
    *,
    ref: str | None = None,
    workers: int | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> Snapshot:
    """Open the repository (clone if needed), scan it, clean up, return the Snapshot."""
    with (
        open_source(repository, branch, ref, cache_dir=cache_dir) as checkout,
        open_scan_cache(cache_dir) as cache,
    ):
        return snapshot_of(
            checkout, settings, workers=workers, cache_dir=cache_dir, progress=progress, cache=cache
        )
