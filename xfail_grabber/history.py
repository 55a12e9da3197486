"""Snapshots of a branch at past points in time (the library behind `grabber history`).

For each point (since, since + step, ... up to until) the last first-parent commit of the
branch at or before it is scanned; a commit that stands for several points is scanned once.
A snapshot's `scanned_at` is the point it stands for, so stored history charts like daily runs.
"""

from __future__ import annotations

import calendar
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import MAXYEAR, UTC, date, datetime, timedelta
from pathlib import Path

from .config import Settings
from .enrich.apply import Enrichment
from .model import Snapshot, utc_now
from .source import SourceError
from .source.commit import Revision
from .source.open import GitRepository

log = logging.getLogger("xfail_grabber")

_EVERY = re.compile(r"^(?:(day|week|month)|(\d+)([dw]))$")
_MAX_STEP_DAYS = 1000 * 365  # a longer step overflows datetime (a traceback, not an error)


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
            if moment.year == MAXYEAR and moment.month == 12:
                break  # no next month in the calendar
        return result
    if named:
        step = timedelta(days=1 if named == "day" else 7)
    else:
        days = int(count) * (7 if unit == "w" else 1)
        if days == 0:
            raise HistoryError(f"not an interval: {every!r} (use day, week, month, Nd or Nw)")
        if days > _MAX_STEP_DAYS:
            raise HistoryError(f"interval too long: {every!r} (at most 1000 years)")
        step = timedelta(days=days)
    result = []
    moment = since
    while moment <= until:
        result.append(moment)
        if until - moment < step:
            break  # the next point is past until (and may be past the calendar's end)
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
    out = repo.output(["log", "--first-parent", "--format=%H %ct", tip, "--"]).decode(
        "ascii", "replace"
    )
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


@dataclass
class HistoryProgress:
    """Where a history run is, for a progress display (`progress=` of scan_history)."""

    points: int  # points to produce
    done: int = 0  # points produced
    commits: int = 0  # commits scanned (a commit standing for several points counts once)
    parsed: int = 0  # files parsed
    started: float = field(default_factory=time.monotonic)

    def eta(self) -> float | None:
        """Seconds left, from the pace so far (None before the first point)."""
        if self.done == 0:
            return None
        return (time.monotonic() - self.started) / self.done * (self.points - self.done)


def scan_history(
    repo: GitRepository,
    branch: str | None,
    moments: list[datetime],
    settings: Settings,
    *,
    workers: int | None = None,
    cache_dir: Path | None = None,
    skip: set[tuple[str, str]] | None = None,
    progress: Callable[[HistoryProgress], None] | None = None,
    enrichment: Enrichment | None = None,
) -> Iterator[tuple[Point, Snapshot]]:
    """Scan the branch at each moment; `skip` holds (commit, ISO day) pairs already stored.

    The first commit is scanned in full, each next one updated from the one before by the
    files that changed between them (walk.py). Each point gets owners from its own commit's
    CODEOWNERS, and blame and ticket status as `enrichment` says (a file whose content did
    not change is blamed once). `progress` is called before the first point and after each.
    """
    from .core import scanned_snapshot
    from .enrich.apply import Where, blame_and_tickets
    from .enrich.blame import BlameCache
    from .source.cache import open_scan_cache
    from .walk import CommitWalk

    head = repo.resolve(branch)
    if head.commit is None:
        return
    found = commits_at(repo, head.commit, moments)
    todo = [
        point
        for point in found
        if not skip or (point.commit, point.at.date().isoformat()) not in skip
    ]
    if skip:
        # Points before the first commit are neither stored nor to do.
        log.info("%d points already stored", len(found) - len(todo))
    if repo.objects.is_promisor():
        # A partial clone: every point's missing blobs in one fetch, not one fetch per point.
        checkouts = [repo.checkout(Revision(head.branch, p.commit, p.committed_at)) for p in todo]
        repo.prefetch([p.commit for p in todo], set().union(*(c.wanted_blobs() for c in checkouts)))
    state = HistoryProgress(points=len(todo))
    if progress is not None:
        progress(state)
    chosen = enrichment or Enrichment()
    blames = BlameCache()
    with open_scan_cache(cache_dir) as cache:
        walk = CommitWalk(repo, head.branch, settings, cache, workers=workers)
        try:
            for point in todo:
                result = walk.scan(point.commit, point.committed_at)
                read = _root_reader(repo, point.commit)
                # As dump gives it at that commit (ticket links, owners), dated at the point.
                snapshot = scanned_snapshot(
                    result,
                    Revision(head.branch, point.commit, point.committed_at),
                    repo=repo.label,
                    scanned_at=point.at,
                    markers=walk.settings.kinds,
                    read=read,
                )
                where = Where(read, repo.git_dir, point.commit, repo.objects)
                snapshot = blame_and_tickets(snapshot, where, chosen, blames)
                state.done += 1
                state.commits, state.parsed = walk.counts.commits, walk.counts.parsed
                if progress is not None:
                    progress(state)
                yield point, snapshot
        finally:
            walk.close()


def _root_reader(repo: GitRepository, commit: str) -> Callable[[str], bytes | None]:
    """`read(path)` for the few files a snapshot reads besides the scan (CODEOWNERS): one
    `git ls-tree` of their paths at `commit`, then the blobs found, without listing the
    whole tree again for every point."""
    from .enrich.apply import blob_ids
    from .enrich.owners import LOCATIONS

    found = blob_ids(repo.git_dir, commit, list(LOCATIONS))

    def read(path: str) -> bytes | None:
        if path not in LOCATIONS:
            found.update(blob_ids(repo.git_dir, commit, [path]))
        oid = found.get(path)
        return repo.objects.blob(oid) if oid is not None else None

    return read
