"""Scan a whole checkout: list, prefilter, parse in parallel (cached by blob id), link.

Pass 1 parses every file that mentions a marker word. Pass 2 parses the files that mention a
name pass 1 found exported as a mark alias (`requires_network`), and repeats while new names
appear. Then imported aliases are resolved across files (link.py).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Protocol

from ..config import Settings
from ..model import DynamicSite, MutedTest, ScanError
from ..source import Checkout, SourceFile
from ..timings import TIMINGS
from .facts import FileFacts

log = logging.getLogger("xfail_grabber.scan")

SCANNER_VERSION = "3"
PARALLEL_MIN_FILES = 16
MAX_BASE_ROUNDS = 5
NEGATIVE = b"-"  # cache value: the file mentions no marker word


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
    _init_worker(settings)


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
                # importing libcst on their own.
                from . import file  # noqa: F401
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(method),
                initializer=_init_pool_worker,
                initargs=(self.settings,),
            )
        return self.pool

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
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


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


def scan_checkout(
    checkout: Checkout,
    settings: Settings,
    *,
    workers: int | None = None,
    progress: bool = False,
    cache: ScanCache | None = None,
) -> ScanResult:
    from .link import Linker
    from .words import keyword_bytes_pattern

    discovery = settings.discovery
    files = [
        f
        for f in checkout.files()
        if not any(discovery.skips_dir(part) for part in f.path.split("/")[:-1])
    ]
    errors = [ScanError(f.path, f.error) for f in files if f.error]
    files = [f for f in files if not f.error]
    is_test = {f.path: discovery.is_test_file(f.path) for f in files}
    prefilter = TIMINGS.search(
        keyword_bytes_pattern(settings.mark_names), "prefilter", "prefiltered out"
    )
    fingerprint = settings.fingerprint() + SCANNER_VERSION

    def key(item: SourceFile, blob: str, *extra: str) -> str:
        return hashlib.sha256(
            "\0".join([fingerprint, item.path, blob, str(is_test[item.path]), *extra]).encode()
        ).hexdigest()

    facts: dict[str, FileFacts] = {}
    negatives: dict[str, tuple[SourceFile, str]] = {}  # path -> (file, blob id)
    blobs: dict[str, str] = {}
    resolved = _cached_facts(cache, {key(f, f.blob_id): f for f in files if f.blob_id})
    to_store: dict[str, bytes] = {}
    parser = Parser(settings, workers)
    job_keys: dict[str, str] = {}
    tick = _progress(len(files), progress)
    next(tick)
    for item in files:
        if item.path not in resolved:
            continue
        blobs[item.path] = item.blob_id or ""
        found = resolved[item.path]
        if found is None:
            negatives[item.path] = (item, item.blob_id or "")
        else:
            facts[item.path] = found
        next(tick)
    try:
        unread = [f for f in files if f.path not in resolved]
        for item, data in checkout.read(unread):
            next(tick)
            if isinstance(data, str):
                errors.append(ScanError(item.path, data))
                continue
            blob = item.blob_id or git_blob_id(data)
            blobs[item.path] = blob
            if prefilter.search(data):
                parser.submit((item.path, data, is_test[item.path], ()))
                job_keys[item.path] = key(item, blob)
            else:
                negatives[item.path] = (item, blob)
                to_store[key(item, blob)] = NEGATIVE
        for result in parser.results():
            facts[result.path] = result
            if result.error is None:
                to_store[job_keys[result.path]] = result.dumps()
        # Pass 2: files that only mention names exported as marks by other files.
        names = _exported(facts.values())
        negatives_files = {path: item for path, (item, _) in negatives.items()}
        seen: set[str] = set()
        while names - seen:
            seen |= names
            pattern = keyword_bytes_pattern(sorted(names), only=True)
            extra = tuple(sorted(names))
            more: list[tuple[str, bytes, bool, tuple[str, ...]]] = []
            names_id = hashlib.sha256("\0".join(extra).encode()).hexdigest()
            miss_keys = {key(item, blob, names_id): item for item, blob in negatives.values()}
            known = _cached_facts(cache, miss_keys)
            for path, found in known.items():
                if found is not None:
                    facts[path] = found
                    negatives.pop(path, None)
            hits = [item for item in miss_keys.values() if item.path not in known]
            for item, data in checkout.read(hits):
                if isinstance(data, bytes) and pattern.search(data):
                    more.append((item.path, data, is_test[item.path], extra))
                else:
                    to_store[key(item, blobs[item.path], names_id)] = NEGATIVE
            for result in parser.run(more):
                facts[result.path] = result
                negatives.pop(result.path, None)
                if result.error is None:
                    item = negatives_files[result.path]
                    to_store[key(item, blobs[item.path], names_id)] = result.dumps()
            names = _exported(facts.values())
        # Pass 3: the files that define imported bases of test classes, parsed for those
        # class names (a base without a mark of its own is not selected otherwise).
        paths = {f.path for f in files}
        by_path = {f.path: f for f in files}
        asked: set[tuple[str, tuple[str, ...]]] = set()
        for _ in range(MAX_BASE_ROUNDS):
            from .link import Linker

            wanted = Linker(facts, settings).wanted_bases(paths)
            exported = _exported(facts.values())
            asks = {
                p: tuple(sorted(n | exported))
                for p, n in wanted.items()
                if p in blobs and (p, tuple(sorted(n))) not in asked
            }
            asked.update((p, tuple(sorted(n))) for p, n in wanted.items())
            if not asks:
                break
            base_keys = {
                key(by_path[p], blobs[p], "bases", *extra): by_path[p] for p, extra in asks.items()
            }
            for path, found in _cached_facts(cache, base_keys).items():
                if found is not None:
                    facts[path] = found
                    negatives.pop(path, None)
                    asks.pop(path)
            jobs = []
            for item, data in checkout.read([by_path[p] for p in sorted(asks)]):
                if isinstance(data, bytes):
                    jobs.append((item.path, data, is_test[item.path], asks[item.path]))
            for result in parser.run(jobs):
                if result.error is None:
                    facts[result.path] = result
                    negatives.pop(result.path, None)
                    item = by_path[result.path]
                    extra_names = asks[result.path]
                    to_store[key(item, blobs[item.path], "bases", *extra_names)] = result.dumps()
    finally:
        parser.close()
    if cache is not None and to_store:
        cache.put_many(to_store)
        for cache_key, value in to_store.items():
            _memo_put(cache_key, None if value == NEGATIVE else FileFacts.loads(value))
    linker = Linker(facts, settings)
    records: list[MutedTest] = []
    dynamic: list[DynamicSite] = []
    for path, item_facts in facts.items():
        if item_facts.error is not None:
            errors.append(ScanError(path, item_facts.error))
            continue
        if item_facts.note:
            log.info("%s: %s; read with the regex fallback", path, item_facts.note)
        records.extend(item_facts.records)
        if item_facts.pending:
            records.extend(linker.records(item_facts.pending, path))
        if item_facts.open_classes:
            records.extend(linker.class_records(item_facts))
        dynamic.extend(item_facts.dynamic)
    records.sort(key=MutedTest.sort_key)
    errors.sort()
    dynamic.sort(key=lambda d: (d.path, d.line))
    return ScanResult(tuple(records), tuple(errors), len(files), tuple(dynamic))


# Facts already decoded in this process (history scans many commits that share most files).
_MEMO: OrderedDict[str, FileFacts | None] = OrderedDict()
MEMO_ENTRIES = 100_000


def _memo_put(cache_key: str, found: FileFacts | None) -> None:
    _MEMO[cache_key] = found
    _MEMO.move_to_end(cache_key)
    while len(_MEMO) > MEMO_ENTRIES:
        _MEMO.popitem(last=False)


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
        if cache_key in _MEMO:
            result[item.path] = _MEMO[cache_key]
        else:
            lookups.append(cache_key)
    for cache_key, value in cache.get_many(lookups).items():
        item = wanted[cache_key]
        try:
            found = None if value == NEGATIVE else FileFacts.loads(value)
        except Exception:  # a stale or broken entry: scan again
            log.debug("unreadable cache entry for %s; scanning it again", item.path)
            continue
        result[item.path] = found
        _memo_put(cache_key, found)
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
