"""Snapshots of a branch at past points in time (the library behind `grabber history`).

For each point (since, since + step, ... up to until) the last first-parent commit of the
branch at or before it is scanned; a commit that stands for several points is scanned once.
A snapshot's `scanned_at` is the point it stands for, so stored history charts like daily runs.
"""

from __future__ import annotations

import calendar
import logging
import multiprocessing
import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from .config import Settings
from .model import Snapshot, utc_now
from .source import SourceError, SourceFile
from .source.cache import ScanCache
from .source.git import BlobSet, GitCheckout, Revision, prefetch_blobs
from .source.gitrun import run_git
from .source.open import GitRepository

log = logging.getLogger("xfail_grabber")

# Below this many commits a process each, scanning them in parallel does not pay.
MIN_COMMITS_PER_PROCESS = 8
_EVERY = re.compile(r"^(?:(day|week|month)|(\d+)([dw]))$")


class HistoryError(SourceError):
    """Bad history parameters, or history the repository does not hold."""


def parse_moment(text: str) -> datetime:
    """An ISO date (midnight UTC) or date-time (UTC unless it says otherwise)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HistoryError(f"not a date: {text!r} (use YYYY-MM-DD or an ISO date-time)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _add_months(moment: datetime, months: int) -> datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def points(since: datetime, until: datetime, every: str) -> list[datetime]:
    """since, since + step, ... while <= until (`every`: day, week, month, Nd, Nw)."""
    match = _EVERY.match(every.strip().lower())
    if match is None:
        raise HistoryError(f"not an interval: {every!r} (use day, week, month, Nd or Nw)")
    if since > until:
        raise HistoryError("--since is after --until")
    named, count, unit = match.groups()
    if named == "month":
        result, n = [], 0
        while (moment := _add_months(since, n)) <= until:
            result.append(moment)
            n += 1
        return result
    if named:
        step = timedelta(days=1 if named == "day" else 7)
    else:
        if int(count) == 0:
            raise HistoryError(f"not an interval: {every!r}")
        step = timedelta(days=int(count) * (7 if unit == "w" else 1))
    result = []
    moment = since
    while moment <= until:
        result.append(moment)
        moment += step
    if len(result) > 100_000:
        raise HistoryError("too many points; use a longer interval")
    return result


def moments(
    since: str | datetime, until: str | datetime | None = None, every: str = "week"
) -> list[datetime]:
    """The points of a history: since, since + every, ... up to until (default: now).

    Dates are ISO dates (midnight UTC) or date-times, as text or aware datetimes.
    """
    since_at = _moment(since)
    if until is None:
        until_at = utc_now()
        if since_at > until_at:
            raise HistoryError("--since is in the future")
    else:
        until_at = _moment(until)
    return points(since_at, until_at, every)


def _moment(value: str | datetime) -> datetime:
    if isinstance(value, str):
        return parse_moment(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Point:
    at: datetime
    commit: str
    committed_at: datetime


def first_parent_log(repo: GitRepository, tip: str) -> list[tuple[str, datetime]]:
    """(commit, committer time) along the first-parent chain from `tip`, newest first."""
    out = run_git(
        ["log", "--first-parent", "--format=%H %ct", tip, "--"], git_dir=repo.git_dir
    ).stdout.decode("ascii", "replace")
    return [
        (sha, datetime.fromtimestamp(int(stamp), UTC))
        for sha, stamp in (line.split() for line in out.splitlines() if line.strip())
    ]


def commits_at(repo: GitRepository, tip: str, moments: list[datetime]) -> list[Point]:
    """The last first-parent commit at or before each moment (moments before the first
    commit have none and are left out). A shallow clone that cannot reach back is an error."""
    chain = first_parent_log(repo, tip)
    if not chain:
        return []
    shallow = (repo.git_dir / "shallow").is_file()
    result = []
    for moment in moments:
        found = next(((sha, when) for sha, when in chain if when <= moment), None)
        if found is None:
            if shallow:
                raise HistoryError(
                    f"history before {chain[-1][1].date().isoformat()} is not available: "
                    f"{repo.label} is a shallow clone (fetch it with --unshallow)"
                )
            continue
        result.append(Point(moment, found[0], found[1]))
    return result


def scan_history(
    repo: GitRepository,
    branch: str | None,
    moments: list[datetime],
    settings: Settings,
    *,
    workers: int | None = None,
    cache_dir: Path | None = None,
    skip: set[tuple[str, str]] | None = None,
) -> Iterator[tuple[Point, Snapshot]]:
    """Scan the branch at each moment; `skip` holds (commit, ISO day) pairs already stored."""
    from .core import snapshot_of
    from .source.cache import open_scan_cache

    head = repo.resolve(branch)
    if head.commit is None:
        return
    todo = [
        point
        for point in commits_at(repo, head.commit, moments)
        if not skip or (point.commit, point.at.date().isoformat()) not in skip
    ]
    if skip:
        log.info("%d points already stored", len(moments) - len(todo))
    checkouts = {
        p.commit: repo.checkout(Revision(head.branch, p.commit, p.committed_at)) for p in todo
    }
    # A partial clone: every point's missing blobs in one fetch, not one fetch per point.
    prefetch_blobs(
        repo.git_dir,
        list(checkouts),
        set().union(*(c.wanted_blobs() for c in checkouts.values())),
        repo.auth,
    )
    # Commits with the same Python files and pytest configuration (the weeks that changed
    # only docs or CI) have the same records: one scan stands for all of them.
    same_as: dict[str, str] = {}
    first_with: dict[str, str] = {}
    for commit, checkout in checkouts.items():
        same_as[commit] = first_with.setdefault(checkout.content_key(), commit)
    distinct = {c: checkouts[c] for c in dict.fromkeys(same_as.values())}
    scanned: dict[str, Snapshot] = {}
    with open_scan_cache(cache_dir) as cache:
        if len(distinct) > 1:
            warm_up(repo, list(distinct.values()), settings, cache, workers=workers)
        processes = min(workers or os.cpu_count() or 1, len(distinct) // MIN_COMMITS_PER_PROCESS)
        if processes >= 2:
            stream = _in_processes(list(distinct.values()), settings, cache_dir, processes)
        else:
            stream = (
                (commit, snapshot_of(checkout, settings, workers=workers, cache=cache))
                for commit, checkout in distinct.items()
            )
        for point in todo:
            scanned_as = same_as[point.commit]
            while scanned_as not in scanned:
                commit, snapshot = next(stream)
                scanned[commit] = snapshot
            yield (
                point,
                replace(
                    scanned[scanned_as],
                    commit=point.commit,
                    committed_at=point.committed_at,
                    scanned_at=point.at,
                ),
            )


def _scan_commits(
    checkouts: list[GitCheckout], settings: Settings, cache_dir: Path | None
) -> list[Snapshot]:
    """Scan some commits in a process of its own (their files are in the scan cache)."""
    from .core import snapshot_of
    from .source.cache import open_scan_cache

    with open_scan_cache(cache_dir) as cache:
        return [snapshot_of(c, settings, workers=1, cache=cache) for c in checkouts]


def _in_processes(
    checkouts: list[GitCheckout], settings: Settings, cache_dir: Path | None, processes: int
) -> Iterator[tuple[str, Snapshot]]:
    """(commit, snapshot) in order, the commits split into `processes` contiguous runs.

    After the warm-up a commit's scan is mostly reading the cache and linking files, work of
    the main process alone; several processes take a share of the commits each. The
    checkouts travel listed already (the warm-up listed them).
    """
    size = -(-len(checkouts) // processes)
    groups = [checkouts[i : i + size] for i in range(0, len(checkouts), size)]
    # fork is fast, but unsafe from a process that runs threads (the server does).
    method = "fork" if threading.active_count() == 1 else "forkserver"
    with ProcessPoolExecutor(len(groups), mp_context=multiprocessing.get_context(method)) as pool:
        futures = [pool.submit(_scan_commits, group, settings, cache_dir) for group in groups]
        for group, future in zip(groups, futures, strict=True):
            for checkout, snapshot in zip(group, future.result(), strict=True):
                assert checkout.commit is not None
                yield checkout.commit, snapshot


def warm_up(
    repo: GitRepository,
    checkouts: list[GitCheckout],
    settings: Settings,
    cache: ScanCache,
    *,
    workers: int | None = None,
) -> None:
    """Scan every file version of the commits in a few large batches, to fill the cache.

    Scanned commit by commit, each commit's handful of changed files would pay for a parser
    pool of its own; in layers (the first version of every path, then the second...) they
    are parsed together. The commits' own scans then read them from the cache, and work out
    what depends on other files (mark aliases, base classes) per commit as usual.
    """
    from .config import discovery_from_files
    from .scan.tree import scan_checkout

    layers: list[list[SourceFile]] = []
    depth: dict[str, int] = {}
    seen: set[tuple[str, str | None]] = set()
    for checkout in checkouts:
        for item in checkout.files():
            if item.error is None and (item.path, item.blob_id) not in seen:
                seen.add((item.path, item.blob_id))
                level = depth.get(item.path, 0)
                depth[item.path] = level + 1
                if level == len(layers):
                    layers.append([])
                layers[level].append(item)
    # Discovery (which files are tests) from the newest commit; a commit whose pytest
    # configuration differs just scans what its own settings find uncached.
    newest = settings.with_discovery(discovery_from_files(checkouts[-1].read_root_file))
    for layer in layers:
        log.info("history: scanning %d file versions in one batch", len(layer))
        blobs = BlobSet(repo.git_dir, layer, label=repo.label, auth=repo.auth)
        scan_checkout(blobs, newest, workers=workers, cache=cache)
