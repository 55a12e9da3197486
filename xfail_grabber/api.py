"""xfail-grabber as a library: scan a repository, compare two refs, walk its history.

    from xfail_grabber.api import scan, diff, history

    snapshot = scan("https://github.com/org/repo", "main", only=["xfailflake"])
    for record in snapshot.muted:
        print(record.nodeid, record.kind, record.ticket)

    changes = diff(".", "origin/main", "HEAD")          # changes.added, .removed, .changed
    for snapshot in history(".", "main", since="2024-01-01", every="month"):
        print(snapshot.commit, snapshot.scanned_at, len(snapshot.muted))

Nothing here prints, exits or needs click. Failures raise: `SourceError` (the repository
cannot be read: missing path, unknown ref, clone failed; `HistoryError` is one, for bad
history parameters too), `ConfigError` (bad markers or configuration file). Messages are one
line and never hold a token. A token for private repositories comes from GITHUB_TOKEN (or
GRABBER_GIT_TOKEN) in the environment.

The functions live here rather than on the package itself: `xfail_grabber.scan`,
`xfail_grabber.diff` and `xfail_grabber.history` are the modules behind them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from .config import ConfigError, Settings, build_settings
from .diff import MuteDiff, diff_refs
from .enrich.apply import Enrichment
from .history import HistoryError, moments, scan_history
from .model import MutedTest, ScanError, Snapshot
from .source import SourceError

log = logging.getLogger("xfail_grabber")

__all__ = [
    "ConfigError",
    "HistoryError",
    "MuteDiff",
    "MutedTest",
    "ScanError",
    "Snapshot",
    "SourceError",
    "diff",
    "enrichment",
    "history",
    "scan",
    "settings",
]


def settings(
    markers: Iterable[str] = (), only: Iterable[str] = (), config: str | Path | None = None
) -> Settings:
    """What to report: the default kinds plus `markers`, restricted to `only` when given,
    or as a grabber.toml (`config`) says. Raises ConfigError."""
    return build_settings(tuple(markers), tuple(only), Path(config) if config else None)


def scan(
    repository: str | Path,
    branch: str | None = None,
    *,
    ref: str | None = None,
    markers: Iterable[str] = (),
    only: Iterable[str] = (),
    config: str | Path | None = None,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    blame: bool | None = None,
    tickets: bool | None = None,
) -> Snapshot:
    """The muted tests of `repository` at `branch` (a URL or a local path).

    Without `branch` a local work tree is read as it is on disk, a URL or bare repository at
    its default branch; `ref` scans that commit with `branch` as the label. `workers` parser
    processes (default: one per core); clones and the scan cache go to `cache_dir` (default:
    the user cache directory). Owners come from CODEOWNERS; `blame` (first_seen, age_days)
    and `tickets` (ticket_status from the trackers of `[tickets]` in `config` or the
    environment) as `grabber dump --blame --tickets` adds them (None: as `[enrich]` in
    `config` says, else off).
    """
    from .core import take_snapshot

    chosen = settings(markers, only, config)
    return take_snapshot(
        str(repository),
        branch,
        chosen,
        ref=ref,
        workers=workers,
        cache_dir=_path(cache_dir),
        enrichment=enrichment(config, blame, tickets, cache_dir),
    )


def diff(
    repository: str | Path,
    base: str,
    head: str,
    *,
    markers: Iterable[str] = (),
    only: Iterable[str] = (),
    config: str | Path | None = None,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
) -> MuteDiff:
    """The mutes added, removed and changed from commit `base` to commit `head` (any
    commit-ish). Files git sees as renamed keep their tests' identity."""
    return diff_refs(
        str(repository),
        base,
        head,
        settings(markers, only, config),
        workers=workers,
        cache_dir=_path(cache_dir),
    )


def history(
    repository: str | Path,
    branch: str | None = None,
    *,
    since: str | datetime,
    until: str | datetime | None = None,
    every: str = "week",
    markers: Iterable[str] = (),
    only: Iterable[str] = (),
    config: str | Path | None = None,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    blame: bool | None = None,
    tickets: bool | None = None,
) -> Iterator[Snapshot]:
    """Snapshots of `branch` (default: HEAD) at since, since + every, ... up to until
    (default: now), oldest first, as they are scanned.

    Each point is the last first-parent commit at or before it (points before the first
    commit are left out); a snapshot's `scanned_at` is its point. `every`: day, week, month,
    Nd or Nw; dates are ISO text or datetimes (naive ones are UTC). Bad parameters raise
    HistoryError before anything is opened. Owners, `blame` and `tickets` as for `scan`,
    each point from its own commit (what `grabber history --blame --tickets` stores).
    """
    from .source.open import open_git

    chosen = settings(markers, only, config)
    points = moments(since, until, every)
    enriched = enrichment(config, blame, tickets, cache_dir)
    repo = open_git(str(repository), cache_dir=_path(cache_dir))

    def snapshots() -> Iterator[Snapshot]:
        try:
            found = scan_history(
                repo,
                branch,
                points,
                chosen,
                workers=workers,
                cache_dir=_path(cache_dir),
                enrichment=enriched,
            )
            for _, snapshot in found:
                yield snapshot
        finally:
            repo.close()  # GitPython's cat-file processes end with the history

    return snapshots()


def enrichment(
    config: str | Path | None = None,
    blame: bool | None = None,
    tickets: bool | None = None,
    cache_dir: str | Path | None = None,
) -> Enrichment:
    """What scan() and history() add besides owners: `blame` and `tickets` over `[enrich]`
    of the grabber.toml `config`; trackers from its `[tickets]` and the environment.
    Raises ConfigError."""
    from .enrich.settings import load_enrichment, tracker_note
    from .source.clones import default_cache_dir

    found = load_enrichment(
        Path(config) if config else None,
        blame=blame,
        tickets=tickets,
        cache_dir=_path(cache_dir) or default_cache_dir(),
    )
    note = tracker_note(found)
    if note is not None:
        log.warning("%s", note)
    return found


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value is not None else None
