"""Running a fleet: every repository of the file, each active branch, one action per branch.

A repository is one task: list its branches (one ls-remote), keep this shard's pairs, drop the
dormant ones, clone or fetch it once into the cache, then run the action (push, dump, history)
branch by branch. A failure is recorded against its repository or branch and the run goes on.
With `jobs` > 1 the repositories run in a pool of processes (a scan is CPU work in Python, so
threads would queue on the GIL); the parent only prints lines and progress.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, TextIO

from ..config import Settings
from ..enrich.apply import Enrichment
from ..model import Snapshot, utc_now
from ..source.open import GitRepository, open_git
from .file import Fleet, RepoSpec
from .plan import Shard, has_clone, list_branches, local_branches, match_branches, tip_dates

log = logging.getLogger("xfail_grabber.fleet")

Emit = Callable[[str], None]
STALE_SCRATCH_SECONDS = 86_400


def default_jobs() -> int:
    """Repositories at once when --jobs is not given (see benchmarks/README.md, fleet).

    Two per core: while one repository waits on git (ls-remote, fetch, clone) the other scans.
    """
    return max(2, 2 * (os.cpu_count() or 1))


@dataclass(frozen=True)
class Failure:
    repo: str
    branch: str | None  # None: the repository as a whole (listing, fetching the tips, cloning)
    error: str

    def __str__(self) -> str:
        where = f"{self.repo}@{self.branch}" if self.branch else self.repo
        # Errors about the whole repository usually name it already.
        return (
            self.error
            if self.branch is None and self.repo in self.error
            else f"{where}: {self.error}"
        )


@dataclass
class RepoResult:
    repo: str
    matched: int = 0  # branches the globs picked, in this shard
    active: int = 0  # of which active (all of them without active_within)
    snapshots: int = 0  # pushed or written
    failures: list[Failure] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # output, when run in a worker process


class Action(Protocol):
    """What a fleet run does with a branch; returns how many snapshots it pushed or wrote.

    Implementations are frozen dataclasses at module level (they travel to worker processes).
    """

    def __call__(
        self, repo: GitRepository, branch: str, settings: Settings, task: Task, emit: Emit
    ) -> int: ...


@dataclass(frozen=True)
class Task:
    spec: RepoSpec
    settings: Settings
    action: Action
    shard: Shard | None
    cache_dir: Path | None
    workers: int | None
    now: datetime
    scratch: Path | None = None  # where each process keeps its scratch repository for tips
    enrichment: Enrichment | None = None  # blame and tickets (owners always)


def run_repo(task: Task, emit: Emit | None = None) -> RepoResult:
    """One repository, every branch of it this shard takes; never raises for a repository
    or branch that fails (that is recorded in the result)."""
    spec = task.spec
    result = RepoResult(spec.url)
    write = emit if emit is not None else result.lines.append
    try:
        repo: GitRepository | None = None
        dates: dict[str, datetime] | None = None
        if has_clone(spec, task.cache_dir):
            # Fetching the clone (needed anyway to scan) lists the branches and their dates.
            repo = open_git(spec.url, cache_dir=task.cache_dir)
            remote, dates = local_branches(repo.git_dir)
        else:
            remote = list_branches(spec)
        branches = match_branches(spec, remote)
        if task.shard is not None:
            branches = [b for b in branches if task.shard.takes(spec.identity, b)]
        result.matched = len(branches)
        if branches and spec.active_within is not None:
            if dates is None:
                dates = tip_dates(spec, branches, task.cache_dir, task.scratch)
            since = task.now - spec.active_within
            branches = [b for b in branches if b in dates and dates[b] >= since]
        result.active = len(branches)
        if not branches:
            if repo is not None:
                repo.close()
            return result
        if repo is None:
            repo = open_git(spec.url, cache_dir=task.cache_dir)
    except Exception as exc:  # one repository must not stop the fleet
        result.failures.append(Failure(spec.url, None, _one_line(exc)))
        if repo is not None:
            repo.close()
        return result
    try:
        for branch in branches:
            try:
                result.snapshots += task.action(repo, branch, task.settings, task, write)
            except Exception as exc:
                result.failures.append(Failure(spec.url, branch, _one_line(exc)))
    finally:
        repo.close()  # GitPython's cat-file processes end with the repository's turn
    return result


def _one_line(exc: BaseException) -> str:
    from ..source import SourceError

    text = " ".join(str(exc).split()) or type(exc).__name__
    known = isinstance(exc, (SourceError, OSError, ValueError)) or type(exc).__module__.startswith(
        "xfail_grabber"
    )
    return text if known else f"{type(exc).__name__}: {text}"


def snapshot_branch(repo: GitRepository, branch: str, settings: Settings, task: Task) -> Snapshot:
    """Scan a branch of an open repository (already fetched: no fetch per branch)."""
    from ..core import snapshot_of
    from ..source.cache import open_scan_cache

    checkout = repo.checkout(repo.resolve(branch))
    with open_scan_cache(task.cache_dir) as cache:
        return snapshot_of(
            checkout, settings, workers=task.workers, cache=cache, enrichment=task.enrichment
        )


@dataclass
class Summary:
    repos: int = 0
    matched: int = 0
    active: int = 0
    snapshots: int = 0
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, result: RepoResult) -> None:
        self.repos += 1
        self.matched += result.matched
        self.active += result.active
        self.snapshots += result.snapshots
        self.failures.extend(result.failures)

    def text(self, verb: str, shard: Shard | None) -> str:
        where = f" (shard {shard})" if shard else ""
        failed = len(self.failures)
        return (
            f"fleet{where}: {self.repos} {'repository' if self.repos == 1 else 'repositories'}, "
            f"{self.matched} branches matched, "
            f"{self.active} active, {self.snapshots} snapshots {verb}, "
            f"{failed} failure{'' if failed == 1 else 's'}, {self.seconds:.1f}s"
        )


def run_fleet(
    fleet: Fleet,
    settings_for: Callable[[RepoSpec], Settings],
    action: Action,
    *,
    jobs: int | None = None,
    shard: Shard | None = None,
    cache_dir: Path | None = None,
    workers: int | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    progress: bool | None = None,
    enrichment_for: Callable[[RepoSpec], Enrichment] | None = None,
) -> Summary:
    """Run `action` over the fleet; lines go to `out`, failures and progress to `err`;
    `enrichment_for` says what each repository's snapshots get besides owners."""
    out = out or sys.stdout
    err = err or sys.stderr
    tty = err.isatty() if progress is None else progress
    jobs = min(jobs or default_jobs(), max(1, len(fleet.repos)))
    if workers is None and jobs > 1:
        # The repositories already keep the cores busy; a parser pool each would fight them.
        workers = max(1, (os.cpu_count() or 1) // jobs)
    now = utc_now()
    scratch = _scratch_dir(cache_dir)
    tasks = [
        Task(
            spec,
            settings_for(spec),
            action,
            shard,
            cache_dir,
            workers,
            now,
            scratch,
            enrichment_for(spec) if enrichment_for is not None else None,
        )
        for spec in fleet.repos
    ]
    summary = Summary()
    started = time.monotonic()

    def write(line: str) -> None:
        out.write(line)
        out.flush()

    def done(result: RepoResult) -> None:
        for line in result.lines:
            write(line)
        summary.add(result)
        for failure in result.failures:
            if tty:
                err.write("\r\033[K")
            err.write(f"grabber: failed: {failure}\n")
        if tty:
            err.write(
                f"\rfleet: {summary.repos}/{len(tasks)} repositories, "
                f"{summary.snapshots} snapshots, {len(summary.failures)} failed"
            )
        err.flush()

    try:
        if jobs == 1:
            for task in tasks:
                done(run_repo(task, write))
        else:
            for result in _in_processes(tasks, jobs):
                done(result)
    finally:
        if tty:
            err.write("\n")
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    summary.seconds = time.monotonic() - started
    return summary


def _scratch_dir(cache_dir: Path | None) -> Path | None:
    """A directory for this run's scratch repositories (None: each fetch makes its own)."""
    from ..source.clones import default_cache_dir

    root = (cache_dir or default_cache_dir()) / "tmp"
    try:
        root.mkdir(parents=True, exist_ok=True)
        # Left by a run that was killed (a day is longer than any run the deadlines allow).
        for stale in root.glob("fleet-*"):
            if time.time() - stale.stat().st_mtime > STALE_SCRATCH_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)
        return Path(tempfile.mkdtemp(prefix="fleet-", dir=root))
    except OSError:
        return None


def _in_processes(tasks: list[Task], jobs: int) -> Iterator[RepoResult]:
    # fork is fast, but unsafe from a process that runs threads.
    method = "fork" if threading.active_count() == 1 else "forkserver"
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method))
    try:
        futures: dict[Future[RepoResult], Task] = {pool.submit(run_repo, t): t for t in tasks}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a worker killed (out of memory)
                url = futures[future].spec.url
                yield RepoResult(url, failures=[Failure(url, None, f"worker failed: {exc}")])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
