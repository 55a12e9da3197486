"""The scanner's machinery: the parser pool and the scan cache's in-memory layer.

`Parser` runs `scan_bytes` on files in worker processes, fed while the main process reads;
`_cached_facts` answers from decoded facts kept in memory (bounded by size) or the scan cache.
incremental.py drives them: pass 1 parses every file that mentions a marker word, pass 2 the
files that mention a name pass 1 found exported as a mark alias (`requires_network`), until no
new name appears; then imported aliases are resolved across files (link.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Protocol

from ..config import Settings
from ..lru import ByteLRU
from ..model import DynamicSite, MutedTest, ScanError
from ..source import SourceFile
from ..timings import TIMINGS
from .facts import FileFacts

log = logging.getLogger("xfail_grabber.scan")

SCANNER_VERSION = "5"  # 5: pytest.param aliases, helper templates that follow locals
PARALLEL_MIN_FILES = 16
PR_SET_PDEATHSIG = 1  # linux/prctl.h
NEGATIVE = b"-"  # cache value: the file mentions no marker word
# Larger files are listed under errors unread: no test file is this large, and reading one
# must not cost the scan its memory (the regex fallback needs a few times a file's size).
MAX_FILE_BYTES = 32 * 1024 * 1024


class ScanCache(Protocol):
    def get_many(self, keys: list[str]) -> dict[str, bytes]: ...

    def put_many(self, items: dict[str, bytes]) -> None: ...


@dataclass(frozen=True)
class ScanResult:
    records: tuple[MutedTest, ...]
    errors: tuple[ScanError, ...]
    files_scanned: int
    dynamic: tuple[DynamicSite, ...] = ()


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest()


# -- worker side ----------------------------------------------------------------------------

_worker_settings: Settings | None = None


def _init_worker(settings: Settings) -> None:
    global _worker_settings
    _worker_settings = settings


def _parse_one(job: tuple[str, bytes, bool, tuple[str, ...]]) -> FileFacts:
    from .file import scan_bytes

    path, data, is_test, extra = job
    assert _worker_settings is not None
    try:
        return scan_bytes(path, data, _worker_settings, is_test, extra)
    except Exception as exc:  # a scanner bug must not lose the whole scan
        log.debug("scanner failed on %s", path, exc_info=True)
        return FileFacts(path=path, error=f"internal scanner error: {type(exc).__name__}: {exc}")


Job = tuple[str, bytes, bool, tuple[str, ...]]


def _init_pool_worker(settings: Settings) -> None:
    # Parse trees are acyclic and the worker is short-lived: the cycle collector only costs.
    gc.disable()
    _bound_to_parent()
    _init_worker(settings)


def _bound_to_parent() -> None:
    """A worker never outlives grabber nor holds its stdout.

    Killed with SIGTERM, grabber used to leave its workers behind, blocked writing results
    nobody read, holding stdout open, so `grabber dump | consumer` never saw end-of-file.
    Now: stdin and stdout are /dev/null here, the kernel kills the worker when its parent
    dies (Linux), and Ctrl-C (sent to the whole process group) is the parent's to handle.
    """
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    os.close(null)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl here: stdout is released at least
            pass
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


class Parser:
    """Runs `scan_bytes` on jobs, in worker processes once there are enough of them.

    Jobs are handed to the workers as they come (while the main process goes on reading);
    `results()` gives them back in the order they were submitted.
    """

    def __init__(self, settings: Settings, workers: int | None) -> None:
        self.settings = settings
        self.workers = workers or os.cpu_count() or 1
        self.pool: ProcessPoolExecutor | None = None
        self.waiting: list[Job] = []
        self.futures: list[tuple[Job, Future[FileFacts]]] = []

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # fork is fast, but unsafe from a process that runs threads (the server does).
            method = "fork" if threading.active_count() == 1 else "forkserver"
            if method == "fork":
                # Load the parser once here; forked workers inherit it instead of each
                # importing libcst on their own (measured: the same wall time on an idle
                # machine, 0.3 s less CPU, and a long-lived process keeps it loaded).
                from . import file  # noqa: F401
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(method),
                initializer=_init_pool_worker,
                initargs=(self.settings,),
            )
        return self.pool

    def start(self, expected_jobs: int) -> None:
        """Start the workers now if about `expected_jobs` files may be parsed, so they are
        ready when the first jobs come."""
        if self.workers > 1 and expected_jobs >= PARALLEL_MIN_FILES:
            pool = self._pool()
            # The executor starts its processes as work comes: ask for all of them now.
            for _ in range(self.workers):
                pool.submit(int)

    @TIMINGS.timed("parse")
    def submit(self, job: Job) -> None:
        self.waiting.append(job)
        if self.workers > 1 and (self.pool is not None or len(self.waiting) >= PARALLEL_MIN_FILES):
            pool = self._pool()
            self.futures += [(j, pool.submit(_parse_one, j)) for j in self.waiting]
            self.waiting = []

    @TIMINGS.timed_iterator("parse", count="parsed")
    def results(self) -> Iterator[FileFacts]:
        futures, self.futures = self.futures, []
        for job, future in futures:
            try:
                yield future.result()
            except BrokenProcessPool:
                # A parser crashed hard (native stack overflow); read that file by regex.
                self.pool = None
                yield _crashed(job, self.settings)
        waiting, self.waiting = self.waiting, []
        _init_worker(self.settings)
        for job in waiting:
            yield _parse_one(job)

    def run(self, jobs: list[Job]) -> Iterator[FileFacts]:
        for job in jobs:
            self.submit(job)
        return self.results()

    def close(self) -> None:
        if sys.exc_info()[1] is not None:
            # Called while an exception unwinds (Ctrl-C, SIGTERM, an error): do not wait.
            self.abandon()
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def abandon(self) -> None:
        """Stop now (Ctrl-C, SIGTERM, an error): kill the workers instead of waiting for
        them, so the process can exit and nothing is left running."""
        pool, self.pool = self.pool, None
        if pool is None:
            return
        # The executor has no public way to stop running work: end its processes.
        processes = list(getattr(pool, "_processes", {}).values())
        for process in processes:
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        pool.shutdown(wait=True, cancel_futures=True)


def _crashed(job: Job, settings: Settings) -> FileFacts:
    from .file import _fallback, decode

    path, data, is_test, _ = job
    try:
        text = decode(data)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        text = data.decode("utf-8", errors="replace")
    return _fallback(path, text, settings, is_test, "parser crashed")


def _progress(total: int, enabled: bool) -> Iterator[None]:
    if not enabled or total == 0:
        while True:
            yield
    done = 0
    step = max(1, total // 100)
    while True:
        yield
        done += 1
        if done % step == 0 or done == total:
            sys.stderr.write(f"\rscanning: {done}/{total} files ({100 * done // total}%)")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()


# Facts already decoded in this process (history scans many commits that share most files),
# bounded by an estimate of their size in memory: about this many times their pickle.
DECODED_PER_PICKLED = 4
MEMO_BYTES = 48 * 1024 * 1024
_MEMO: ByteLRU[FileFacts | None] = ByteLRU(MEMO_BYTES)


def remember(cache_key: str, found: FileFacts | None, pickled: int) -> None:
    """Keep decoded facts (None: no marker word) whose cache entry is `pickled` bytes long."""
    _MEMO.put(cache_key, found, pickled * DECODED_PER_PICKLED)


@TIMINGS.timed("cache", count="cache hits")
def _cached_facts(
    cache: ScanCache | None, wanted: dict[str, SourceFile]
) -> dict[str, FileFacts | None]:
    """path -> facts (None: mentions no marker word) for the keys the cache knows."""
    if cache is None or not wanted:
        return {}
    result: dict[str, FileFacts | None] = {}
    lookups = []
    for cache_key, item in wanted.items():
        try:
            result[item.path] = _MEMO[cache_key]
        except KeyError:
            lookups.append(cache_key)
    for cache_key, value in cache.get_many(lookups).items():
        item = wanted[cache_key]
        try:
            found = None if value == NEGATIVE else FileFacts.loads(value)
        except Exception:  # a stale or broken entry: scan again
            log.debug("unreadable cache entry for %s; scanning it again", item.path)
            continue
        result[item.path] = found
        remember(cache_key, found, len(value))
    return result


def _exported(facts: Iterable[FileFacts]) -> set[str]:
    """Alias and helper names, plus names that re-export them under another name (to a
    fixpoint)."""
    items = list(facts)
    names: set[str] = set()
    for item in items:
        names.update(item.aliases)
        names.update(item.helpers)
        names.update(item.pending_aliases)
    changed = True
    while changed:
        changed = False
        for item in items:
            for local, ref in item.imports.items():
                if ref.name in names and local not in names:
                    names.add(local)
                    changed = True
    return names
