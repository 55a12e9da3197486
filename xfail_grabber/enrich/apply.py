"""Fill the records' enrichment fields: owners (always, when the repository has a
CODEOWNERS), first_seen / age_days / since_mismatch (`--blame`), ticket_status /
ticket_title / stale (`--tickets`)."""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import FirstSeen, MutedTest, Snapshot
from . import owners as owners_module
from .blame import BlameCache, Origin, age_days, blame_file, since_mismatch
from .tickets.refs import TicketRef, Trackers, resolve

log = logging.getLogger("xfail_grabber")


@dataclass(frozen=True)
class Enrichment:
    """What to add, and with what settings."""

    blame: bool = False
    tickets: bool = False
    since_tolerance_days: int = 30
    trackers: Trackers = field(default_factory=Trackers)
    ticket_ttl: float = 6 * 3600.0
    cache_dir: Path | None = None
    # The tracker settings given ([tickets] or the environment); () leaves only the defaults
    # (github.com, gitlab.com), which `tracker_note` tells a --tickets user.
    trackers_given: tuple[str, ...] = ()


@dataclass(frozen=True)
class Where:
    """Where the scanned files came from, as blame needs it."""

    read: Callable[[str], bytes | None]  # a repository file at the scanned commit, or None
    git_dir: Path | None  # None: not a git repository (no blame)
    commit: str | None  # None: the work tree as it is on disk
    objects: Any = None  # the source layer's object store (a partial clone fetches with it)


def where_of(checkout: object) -> Where:
    """A Where for a checkout of the source layer (a git commit or a directory on disk)."""
    read = getattr(checkout, "read_root_file")  # noqa: B009 - every checkout has it
    git_dir = getattr(checkout, "git_dir", None)
    if git_dir is not None:
        objects = getattr(checkout, "objects", None)
        return Where(read, Path(git_dir), getattr(checkout, "commit", None), objects)
    root = getattr(checkout, "root", None)
    if root is not None and (Path(root) / ".git").exists():
        return Where(read, Path(root) / ".git", None)
    return Where(read, None, None)


def add_owners(snapshot: Snapshot, read: Callable[[str], bytes | None]) -> Snapshot:
    found = owners_module.load(read)
    if found.source is None:
        return snapshot
    cache: dict[str, tuple[str, ...]] = {}
    records = []
    for record in snapshot.muted:
        if record.path not in cache:
            cache[record.path] = tuple(found.of(record.path))
        records.append(dataclasses.replace(record, owners=cache[record.path]))
    return dataclasses.replace(snapshot, muted=tuple(records))


def blob_ids(git_dir: Path, commit: str, paths: list[str]) -> dict[str, str]:
    """path -> blob id at commit, in one `git ls-tree`."""
    if not paths:
        return {}
    done = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-z", commit, "--", *paths],
        capture_output=True,
        timeout=60,
        check=False,
    )
    found = {}
    for entry in done.stdout.split(b"\0"):
        meta, _, path = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            found[path.decode("utf-8", "surrogateescape")] = parts[2].decode()
    return found


def add_blame(
    snapshot: Snapshot, where: Where, tolerance_days: int, cache: BlameCache | None = None
) -> Snapshot:
    if where.git_dir is None:
        log.info("--blame: %s is not a git repository; no first_seen", snapshot.repo)
        return snapshot
    cache = cache or BlameCache()
    git_dir, commit = where.git_dir, where.commit
    # The file of the mark's line: a base class's file for a mark inherited from there.
    paths = sorted({r.mark_path or r.path for r in snapshot.muted})
    blobs = blob_ids(git_dir, commit, paths) if commit else {}
    if commit and where.objects is not None:
        # A partial clone (a URL's clone cache) lacks past versions of the files: fetch them
        # in one request, with the source layer's credentials; blame itself never fetches.
        from ..source.commit import fetch_blobs, history_blobs

        wanted = [p for p in paths if (p, blobs.get(p, "")) not in cache]
        fetch_blobs(where.objects, history_blobs(where.objects, commit, wanted), commit)
    today = snapshot.scanned_at.date()

    def run(path: str) -> dict[int, Origin]:
        return blame_file(git_dir, commit, path)

    # One git process per file, as many at once as there are cores: git blame is CPU-bound.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        found = dict(
            zip(paths, pool.map(lambda p: cache.lines(p, blobs.get(p), run), paths), strict=True)
        )
    records = []
    for record in snapshot.muted:
        origin = found[record.mark_path or record.path].get(record.mark_line)
        if origin is None:
            records.append(record)
            continue
        records.append(
            dataclasses.replace(
                record,
                first_seen=FirstSeen(origin.commit, origin.date, origin.author),
                age_days=age_days(origin, today),
                since_mismatch=since_mismatch(record.since, origin, tolerance_days),
            )
        )
    return dataclasses.replace(snapshot, muted=tuple(records))


def add_ticket_status(snapshot: Snapshot, options: Enrichment) -> Snapshot:
    # Imported here: the HTTP client and the ticket cache cost a scan without --tickets
    # a noticeable share of its start-up.
    from .tickets.cache import TicketCache
    from .tickets.lookup import UNKNOWN, Credentials, Lookup

    refs: dict[int, TicketRef] = {}
    for i, record in enumerate(snapshot.muted):
        ref = resolve(
            record.ticket, getattr(record, "ticket_url", None), snapshot.repo, options.trackers
        )
        if ref is not None:
            refs[i] = ref
    cache = None
    if options.cache_dir is not None:
        cache = TicketCache(options.cache_dir / "tickets.sqlite", options.ticket_ttl)
    try:
        lookup = Lookup(Credentials.from_env(options.trackers), cache=cache)
        answers = lookup.statuses(refs.values())
    finally:
        if cache is not None:
            cache.close()
    unknown = sorted({a.why for a in answers.values() if a.status == UNKNOWN and a.why})
    for why in unknown:
        log.warning("ticket lookup: %s", why)
    records: list[MutedTest] = []
    for i, record in enumerate(snapshot.muted):
        ref = refs.get(i)
        if ref is None:
            records.append(record)
            continue
        answer = answers[ref.key]
        records.append(
            dataclasses.replace(
                record,
                ticket_status=answer.status,
                ticket_title=answer.title,
                stale=answer.status == "closed",
            )
        )
    return dataclasses.replace(snapshot, muted=tuple(records))


def blame_and_tickets(
    snapshot: Snapshot, where: Where, options: Enrichment, blames: BlameCache | None = None
) -> Snapshot:
    """Blame and ticket status, when asked (owners come with every snapshot, from
    core.scanned_snapshot). `blames` is shared across the points of a history, so a file
    whose content did not change is blamed once."""
    if options.blame:
        snapshot = add_blame(snapshot, where, options.since_tolerance_days, blames)
    if options.tickets:
        snapshot = add_ticket_status(snapshot, options)
    return snapshot
